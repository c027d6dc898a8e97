/**
 * The socket side of the eBPF proxy (mode ebpf-sock): its four programs attached to a cgroup v2
 * the lab made for a node's pods, `<cgroup2 mount>/cnilab/<node netns>` — a program attached to a
 * cgroup runs for the processes of it and of every cgroup below it, so a pod's processes are
 * served once they are moved into it (or into a child of it) before they run: `ip netns exec`
 * remounts /sys, so the process that starts them writes the child's PID to `cgroup.procs` first
 * (docs/proxy-ebpf.md). Never the root cgroup, nor anything outside cnilab/: `podCgroup` refuses.
 */
import { existsSync, mkdirSync, readFileSync, rmdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { CnilabError } from '../../lib/errors';
import { run } from '../../lib/exec';
import { parseMountinfo } from '../../lib/mounts';
import { pins, type ProgramName } from './maps';

const SOCK_HOOKS: readonly [string, ProgramName][] = [
  ['connect4', 'svc_connect4'],
  ['sendmsg4', 'svc_sendmsg4'],
  ['recvmsg4', 'svc_recvmsg4'],
  ['getpeername4', 'svc_getpeername4'],
];

/** Where cgroup v2 is mounted (/sys/fs/cgroup, or /sys/fs/cgroup/unified on a hybrid host). */
export function cgroup2Root(mountinfo = readFileSync('/proc/self/mountinfo', 'utf8')): string {
  const m = parseMountinfo(mountinfo).find((x) => x.fsType === 'cgroup2');
  if (!m) throw new CnilabError('FEATURE_MISSING', 'cgroup v2 is not mounted: the ebpf-sock proxy attaches to one');
  return m.path;
}

/**
 * The cgroup a node's pods run in, checked: under `<root>/cnilab/`, never the root itself nor
 * anything a `..` takes elsewhere. Throws INVALID_INPUT for any other path.
 */
export function podCgroup(root: string, path: string): string {
  const p = resolve(path);
  const rel = relative(resolve(root, 'cnilab'), p);
  if (p === resolve(root) || rel === '' || rel.startsWith('..') || resolve(root, 'cnilab', rel) !== p)
    throw new CnilabError(
      'INVALID_INPUT',
      `${path}: the ebpf-sock proxy attaches only to a cgroup under ${join(root, 'cnilab')}/, never the root`,
    );
  return p;
}

export const nodeCgroup = (netns: string, root = cgroup2Root()): string => podCgroup(root, join(root, 'cnilab', netns));

interface Attached {
  id: number;
  attach_type: string;
  name: string;
}

/** The programs attached to `cgroup` (just there, not inherited). */
export async function cgroupPrograms(cgroup: string): Promise<Attached[]> {
  if (!existsSync(cgroup)) return [];
  const r = await run('bpftool', ['cgroup', 'show', cgroup, '-j']);
  return (JSON.parse(r.stdout.trim() || '[]') as Attached[]).filter((a) => a.name.startsWith('svc_'));
}

/** Makes the node's cgroup and attaches the four programs it lacks; returns how many. */
export async function attachCgroup(netns: string, dir: string): Promise<number> {
  const cg = nodeCgroup(netns);
  mkdirSync(cg, { recursive: true });
  const have = await cgroupPrograms(cg);
  let n = 0;
  for (const [type, prog] of SOCK_HOOKS) {
    if (have.some((a) => a.attach_type === type)) continue;
    await run('bpftool', ['cgroup', 'attach', podCgroup(cgroup2Root(), cg), type, 'pinned', pins(dir).progs[prog]]);
    n++;
  }
  return n;
}

/** Detaches the programs and removes the node's cgroup when no process is left in it. */
export async function detachCgroup(netns: string): Promise<void> {
  const cg = nodeCgroup(netns);
  for (const a of await cgroupPrograms(cg))
    await run('bpftool', ['cgroup', 'detach', cg, a.attach_type, 'id', String(a.id)], { check: false });
  // the node's cgroup, then cnilab/ itself once no node's is left in it
  for (const dir of [cg, dirname(cg)])
    try {
      if (existsSync(dir)) rmdirSync(dir);
    } catch {
      return; // processes still in it (EBUSY), or another node's cgroup (ENOTEMPTY): left to them
    }
}
