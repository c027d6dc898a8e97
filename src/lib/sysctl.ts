/**
 * Network sysctls (/proc/sys/net) of any namespace, read and written from this process, without
 * spawning `sysctl` under `ip netns exec` (~10 ms a call): the file is opened with this thread in the
 * namespace (netlink/setns.ts), which is what /proc/sys/net resolves by. Keys are written with
 * slashes, as the kernel's paths are, so an interface name may hold a dot: `net/ipv6/conf/eth0.100/accept_dad`.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { CnilabError } from './errors';
import type { NetnsRef } from './netns';
import { withinNetns } from './netlink/setns';

function pathOf(key: string): string {
  if (!/^net\/[\w./-]+$/.test(key) || key.split('/').includes('..'))
    throw new CnilabError(
      'INVALID_INPUT',
      `sysctl ${JSON.stringify(key)} is not a key under net/ (e.g. net/ipv4/ip_forward)`,
    );
  return `/proc/sys/${key}`;
}

const here = <T>(ns: NetnsRef | undefined, fn: () => T): T => (ns ? withinNetns(ns, fn) : fn());

/**
 * Writes each key's value, in order, in namespace `ns` (this process's when undefined); with
 * `bestEffort`, a key that cannot be written (a kernel without it) is passed over.
 */
export function writeNetSysctls(
  ns: NetnsRef | undefined,
  values: readonly (readonly [string, string])[],
  opts: { readonly bestEffort?: boolean } = {},
): void {
  if (values.length === 0) return;
  const paths = values.map(([k, v]) => [pathOf(k), v] as const);
  here(ns, () => {
    for (const [p, v] of paths) {
      try {
        writeFileSync(p, v);
      } catch (e) {
        if (opts.bestEffort) continue;
        throw new CnilabError(
          'KERNEL_FAILED',
          `sysctl ${p.slice(10)}=${v}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`,
        );
      }
    }
  });
}

/** Each key's value in namespace `ns`; undefined where the key does not exist. */
export function readNetSysctls(ns: NetnsRef | undefined, keys: readonly string[]): (string | undefined)[] {
  const paths = keys.map(pathOf);
  return here(ns, () =>
    paths.map((p) => {
      try {
        return readFileSync(p, 'utf8').trim();
      } catch {
        return undefined;
      }
    }),
  );
}
