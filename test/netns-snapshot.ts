/**
 * A network namespace's links, addresses and routes as sorted lines — what the tests must leave as
 * they found it. Used by the test runner (the real root namespace and the fresh one the suite runs
 * in) and by every lab test (the namespace it runs in). Synchronous: scripts/test.js calls it
 * before and after the suite, outside any event loop work.
 */
import { execFileSync } from 'node:child_process';

export interface NetnsSnapshot {
  readonly links: string[];
  readonly addrs: string[];
  readonly routes: string[];
}

interface Link {
  ifname: string;
  link_type: string;
  linkinfo?: { info_kind?: string };
  addr_info?: { local: string; prefixlen: number }[];
}
interface Route {
  dst: string;
  dev?: string;
  gateway?: string;
  table?: string;
}

/** Namespace `ns` (by name, under /run/netns), or the one this process is in. */
export function snapshotNetns(ns?: string): NetnsSnapshot {
  const ip = <T>(args: string[]): T[] =>
    JSON.parse(execFileSync('ip', [...(ns ? ['-n', ns] : []), '-json', ...args], { encoding: 'utf8' }) || '[]') as T[];
  const links = ip<Link>(['-d', 'link', 'show'])
    .map((l) => `${l.ifname} ${l.link_type} ${l.linkinfo?.info_kind ?? ''}`.trim())
    .sort();
  const addrs = ip<Link>(['addr', 'show'])
    .flatMap((l) => (l.addr_info ?? []).map((a) => `${l.ifname} ${a.local}/${a.prefixlen}`))
    .sort();
  const routes = ip<Route>(['route', 'show', 'table', 'all'])
    .map((r) => `${r.table ?? 'main'} ${r.dst} ${r.gateway ?? ''} ${r.dev ?? ''}`.replace(/ +/g, ' ').trim())
    .sort();
  return { links, addrs, routes };
}

/** What changed from `before` to `after`, one line each: "+ link br0 ether bridge", "- route main 10.0.0.0/24 eth0". */
export function diffSnapshots(before: NetnsSnapshot, after: NetnsSnapshot): string[] {
  const out: string[] = [];
  for (const k of ['links', 'addrs', 'routes'] as const) {
    const what = k.replace(/s$/, '').replace('addr', 'address');
    for (const l of after[k]) if (!before[k].includes(l)) out.push(`+ ${what} ${l}`);
    for (const l of before[k]) if (!after[k].includes(l)) out.push(`- ${what} ${l}`);
  }
  return out;
}
