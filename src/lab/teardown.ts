/**
 * Removing a lab without trusting its state file: every process whose network namespace carries
 * the lab's prefix — or whose command line names one of them (`ip netns exec NS …` or `nsenter
 * --net=…/NS` not in it yet: a daemon just started) — is stopped by PID, the
 * namespaces are deleted (taking every link with them), and the run folder is removed.
 * Idempotent; safe after a crash.
 */
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { run, stopPid } from '../lib/exec';
import { listNamedNetns, namedNetnsInodes, netnsInodeOf } from '../lib/netns';
import { labOfNetns, PREFIX, runDir, RUN_ROOT } from './names';
import { unmountUnder } from '../lib/mounts';

/** PIDs of processes living in any of these named namespaces (found through /proc, one pass). */
export function pidsInNetns(names: readonly string[]): number[] {
  const inodes = namedNetnsInodes(names);
  if (inodes.size === 0) return [];
  return readdirSync('/proc')
    .filter((e) => /^\d+$/.test(e) && inodes.has(netnsInodeOf(e) ?? -1))
    .map(Number);
}

/** Deletes named namespaces (and every link in them) in one `ip -batch`; missing ones are fine. */
export async function deleteNamespaces(namespaces: readonly string[]): Promise<void> {
  if (namespaces.length === 0) return;
  await run('ip', ['-force', '-batch', '-'], {
    input: namespaces.map((n) => `netns delete ${n}`).join('\n') + '\n',
    check: false,
  });
}

/**
 * PIDs of processes whose command line names one of the lab's namespaces (`cnilab-LAB.…`): an `ip
 * netns exec` or `nsenter` between its spawn and its `setns` (Ctrl-C during `up`), which
 * pidsInNetns cannot see yet and which would otherwise run its daemon on, writing into the run
 * folder after it was removed. (Once it has entered the namespace and executed its program, its
 * namespace names it.)
 */
export function pidsNamingLab(lab: string): number[] {
  const ns = `${PREFIX}${lab}.`;
  const pids: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    let args: string[];
    try {
      args = readFileSync(`/proc/${e}/cmdline`, 'utf8').split('\0');
    } catch {
      continue; // gone
    }
    if (args.some((a) => a.includes(ns))) pids.push(Number(e));
  }
  return pids;
}

export interface TeardownReport {
  readonly lab: string;
  readonly namespaces: number;
  readonly processes: number;
}

export function labNamespaces(lab: string): string[] {
  return listNamedNetns().filter((ns) => labOfNetns(ns) === lab);
}

export async function teardownLab(lab: string): Promise<TeardownReport> {
  const namespaces = labNamespaces(lab);
  // A daemon just started moves from naming the namespace (`ip netns exec NS`, before its exec) to
  // living in it: looking for names first, then in the namespaces, sees it in either state; again
  // after stopping what was found, until a pass finds nothing new.
  const stopped = new Set<number>([process.pid]);
  for (;;) {
    const found = [...pidsNamingLab(lab), ...pidsInNetns(namespaces)].filter((p) => !stopped.has(p));
    if (found.length === 0) break;
    for (const p of found) stopped.add(p);
    await Promise.all([...new Set(found)].map((p) => stopPid(p, 1000)));
  }
  await deleteNamespaces(namespaces);
  // the eBPF architectures' bpffs: its pins (programs, maps) go with it
  await unmountUnder(runDir(lab));
  rmSync(runDir(lab), { recursive: true, force: true });
  return { lab, namespaces: namespaces.length, processes: stopped.size - 1 };
}

/** Every lab with a namespace or a run folder left on this machine. */
export function allLabs(): string[] {
  const labs = new Set<string>();
  for (const ns of listNamedNetns()) {
    const lab = labOfNetns(ns);
    if (lab !== undefined) labs.add(lab);
  }
  try {
    for (const d of readdirSync(RUN_ROOT)) labs.add(d);
  } catch {
    /* none */
  }
  return [...labs].sort();
}
