import { renameSync, writeFileSync } from 'node:fs';

let seq = 0;

/**
 * Replaces `file` atomically: a reader sees the old content or the new, never half. The temporary
 * name is unique per process and call, so concurrent writers (plugins, agents) never share one.
 */
export function writeFileAtomic(file: string, data: string): void {
  const tmp = `${file}.${process.pid}.${seq++}.tmp`;
  writeFileSync(tmp, data);
  renameSync(tmp, file);
}
