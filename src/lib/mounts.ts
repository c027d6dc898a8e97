/**
 * Mounts under a folder, from /proc/self/mountinfo: the lab mounts a bpffs in its run folder (the
 * eBPF architectures pin their programs and maps there, never in the host's /sys/fs/bpf), and
 * tear-down, `down --all` and `cnilab doctor` find and undo it by path alone.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { run } from './exec';

export interface Mount {
  readonly path: string;
  readonly fsType: string;
}

/** mountinfo escapes spaces and the like as \\ooo. */
const unescape = (s: string): string =>
  s.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));

export function parseMountinfo(text: string): Mount[] {
  return text
    .split('\n')
    .filter(Boolean)
    .flatMap((line) => {
      const f = line.split(' ');
      const sep = f.indexOf('-');
      const path = f[4];
      const fsType = f[sep + 1];
      return sep > 4 && path && fsType ? [{ path: unescape(path), fsType }] : [];
    });
}

/** The mounts at or under `dir`, deepest first (the order to unmount them in). */
export function mountsUnder(dir: string, text = readFileSync('/proc/self/mountinfo', 'utf8')): Mount[] {
  const d = dir.replace(/\/+$/, '');
  return parseMountinfo(text)
    .filter((m) => m.path === d || m.path.startsWith(`${d}/`))
    .sort((a, b) => b.path.length - a.path.length);
}

/** Mounts a bpffs at `dir` (made if need be) unless one is there already. */
export async function mountBpffs(dir: string): Promise<void> {
  if (mountsUnder(dir).some((m) => m.path === dir.replace(/\/+$/, '') && m.fsType === 'bpf')) return;
  if (!existsSync(dir)) mkdirSync(dir, { recursive: true });
  await run('mount', ['-t', 'bpf', '-o', 'mode=0700', 'bpf', dir]);
}

/**
 * Unmounts everything at or under `dir`, deepest first; a mount already gone is fine. One still
 * busy is detached lazily (`umount -l`): gone from the tree now, freed when its last user goes.
 */
export async function unmountUnder(dir: string): Promise<void> {
  for (const m of mountsUnder(dir)) {
    const r = await run('umount', [m.path], { check: false });
    if (r.code !== 0) await run('umount', ['-l', m.path], { check: false });
  }
}

/** The mount `path` is on (the deepest mount point that holds it). */
export function mountOf(path: string, text = readFileSync('/proc/self/mountinfo', 'utf8')): Mount | undefined {
  const p = path.replace(/\/+$/, '');
  return parseMountinfo(text)
    .filter((m) => m.path === '/' || p === m.path || p.startsWith(`${m.path}/`))
    .sort((a, b) => b.path.length - a.path.length)[0];
}
