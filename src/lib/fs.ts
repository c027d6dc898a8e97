import { mkdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';

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

/**
 * `mkdir -p`, one component at a time. Node's own recursive mkdirSync never returns for some paths
 * (under /proc, for one); a plugin given such a dataDir must fail, not hang.
 */
export function mkdirp(dir: string, mode = 0o755): void {
  const parts = resolve(dir).split('/').filter(Boolean);
  let path = '';
  for (const part of parts) {
    path += `/${part}`;
    try {
      mkdirSync(path, { mode });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
  if (!statSync(path || '/').isDirectory())
    throw Object.assign(new Error(`${path} is not a directory`), { code: 'ENOTDIR' });
}
