/**
 * Entering network namespaces, one way only: every command that acts inside a namespace is built
 * by `inNetns`. A namespace is named (/run/netns/NAME, made by `ip netns add`) or a process's
 * (/proc/PID/ns/net); CNI_NETNS may be either.
 */
import { readdirSync, readlinkSync, statSync } from 'node:fs';
import { CnilabError } from './errors';
import { run, type ExecOptions, type ExecResult } from './exec';

export type NetnsRef = { readonly name: string } | { readonly pid: number };

export function parseNetnsPath(path: string): NetnsRef {
  const named = /^\/(?:var\/)?run\/netns\/([^/\0]+)$/.exec(path);
  if (named && named[1] !== '.' && named[1] !== '..') return { name: named[1]! };
  const proc = /^\/proc\/(\d+)\/ns\/net$/.exec(path);
  if (proc) return { pid: Number(proc[1]) };
  throw new CnilabError(
    'INVALID_INPUT',
    `netns path ${JSON.stringify(path)} is not /run/netns/NAME or /proc/PID/ns/net`,
  );
}

export function netnsPath(ns: NetnsRef): string {
  return 'name' in ns ? `/run/netns/${ns.name}` : `/proc/${ns.pid}/ns/net`;
}

/** What `ip link set … netns X` and `peer … netns X` accept for this namespace. */
export function netnsTarget(ns: NetnsRef): string {
  return 'name' in ns ? ns.name : String(ns.pid);
}

/** The argv that runs `command args…` inside `ns` (or here, when `ns` is undefined). */
export function inNetns(ns: NetnsRef | undefined, command: string, args: readonly string[]): [string, string[]] {
  if (ns === undefined) return [command, [...args]];
  if ('name' in ns) {
    if (command === 'ip') return ['ip', ['-n', ns.name, ...args]];
    return ['ip', ['netns', 'exec', ns.name, command, ...args]];
  }
  return ['nsenter', [`--net=/proc/${ns.pid}/ns/net`, '--', command, ...args]];
}

export function runIn(
  ns: NetnsRef | undefined,
  command: string,
  args: readonly string[],
  options?: ExecOptions,
): Promise<ExecResult> {
  const [cmd, argv] = inNetns(ns, command, args);
  return run(cmd, argv, options);
}

/** `ip` in a namespace. */
export function ip(ns: NetnsRef | undefined, args: readonly string[], options?: ExecOptions): Promise<ExecResult> {
  return runIn(ns, 'ip', args, options);
}

/**
 * Many `ip` (or `bridge`, `tc`) commands in one process (`-batch -`). Each line is one command's argv.
 * With `force`, a failing line does not stop the rest (and the call does not throw).
 */
export async function ipBatch(
  ns: NetnsRef | undefined,
  lines: readonly (readonly string[])[],
  options?: ExecOptions & { tool?: 'ip' | 'bridge' | 'tc'; force?: boolean },
): Promise<void> {
  if (lines.length === 0) return;
  const input = lines.map((l) => l.map(quoteBatchArg).join(' ')).join('\n') + '\n';
  const args = options?.force ? ['-force', '-batch', '-'] : ['-batch', '-'];
  await runIn(ns, options?.tool ?? 'ip', args, { ...options, input, ...(options?.force ? { check: false } : {}) });
}

function quoteBatchArg(a: string): string {
  if (/^[\w@%+=:,./-]+$/.test(a)) return a;
  if (/["\\\n]/.test(a))
    throw new CnilabError('INVALID_INPUT', `argument ${JSON.stringify(a)} cannot be passed to ip -batch`);
  return `"${a}"`;
}

/** `ip -json …` parsed. */
export async function ipJson<T = unknown>(ns: NetnsRef | undefined, args: readonly string[]): Promise<T> {
  const r = await ip(ns, ['-json', ...args]);
  const text = r.stdout.trim();
  return (text ? JSON.parse(text) : []) as T;
}

export function listNamedNetns(): string[] {
  try {
    return readdirSync('/run/netns').sort();
  } catch {
    return [];
  }
}

export async function addNetns(name: string): Promise<void> {
  await run('ip', ['netns', 'add', name]);
  await ip({ name }, ['link', 'set', 'lo', 'up']);
}

/** Deletes a named namespace; "not found" is fine. */
export async function deleteNetns(name: string): Promise<void> {
  if (!listNamedNetns().includes(name)) return;
  await run('ip', ['netns', 'delete', name], { check: false });
}

/**
 * The inodes of the named namespaces under /run/netns (how /proc names a process's namespace); a gone one is left
 * out.
 */
export function namedNetnsInodes(names: readonly string[]): Set<number> {
  const inodes = new Set<number>();
  for (const n of names) {
    try {
      inodes.add(statSync(`/run/netns/${n}`).ino);
    } catch {
      /* gone */
    }
  }
  return inodes;
}

/** The inode of a process's network namespace; undefined when it has exited. */
export function netnsInodeOf(pid: number | string): number | undefined {
  try {
    const m = /^net:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/ns/net`));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}
