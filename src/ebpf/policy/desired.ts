/**
 * What the eBPF design's maps should hold for one node's PolicyInput: pure functions, unit-tested.
 *
 * Identities. Cilium gives each distinct label set a security identity; every cnilab pod carries
 * its own name label (cnilab.io/pod), so every pod's label set is its own and each pod has an
 * identity of its own. Here an identity belongs to an ipcache prefix: each pod's /32, each ipBlock
 * cidr and except (a CIDR identity), and 0.0.0.0/0 → WORLD. The allocation is kept where the
 * programs read it — the pinned ipcache map in the node's bpffs folder: a sync reads it back and
 * keeps every prefix's identity; a new prefix gets the lowest identity from 256 up that the map
 * does not hold (so an identity freed by this sync is never handed out in it, while the policy
 * entries naming it are still there). An agent restart finds the same map, hence the same ids.
 *
 * Blocks (Calico's semantics: an ipBlock matches any address in it, pod or not). An address gets
 * the identity of its longest ipcache prefix, so a block resolves to the identity of every ipcache
 * prefix inside its cidr and not inside one of its excepts: its own CIDR identity, the pods it
 * holds, and any narrower block another rule brought.
 */
import type { AddressBlock, PolicyInput, PortRange, ResolvedRule } from '../../policy/model';
import { parseCidr, parseIPv4, type Cidr } from '../../lib/ip';
import {
  decodeIpcacheKey,
  epKey,
  epValue,
  IDENTITY_ANY,
  IDENTITY_WORLD,
  ipcacheKey,
  policyKey,
  PREFIX_ANY_PORT,
  PREFIX_PROTOCOL,
  PROTOCOL,
  u32,
  type Direction,
} from './maps';

/** The first identity a prefix is given (Cilium keeps 1–255 for reserved ones). */
export const FIRST_IDENTITY = 256;

/** Map contents, key → value, as hex strings (maps.ts). */
export interface Desired {
  readonly eps: Map<string, string>;
  readonly ipcache: Map<string, string>;
  readonly policy: Map<string, string>;
}

const keyOfCidr = (c: Cidr): string => ipcacheKey(c.base, c.prefix);

/** Every ipcache prefix `input` needs, as ipcache keys: 0.0.0.0/0, every pod's /32, every block's cidr and excepts. */
export function prefixesOf(input: PolicyInput): string[] {
  const out = new Set<string>([ipcacheKey(0, 0)]);
  for (const p of input.pods) if (p.ip) out.add(ipcacheKey(parseIPv4(p.ip), 32));
  for (const pol of input.policies)
    for (const rule of [...(pol.ingress ?? []), ...(pol.egress ?? [])])
      if (rule.peers !== 'any')
        for (const b of rule.peers.blocks) for (const c of [b.cidr, ...b.except]) out.add(keyOfCidr(parseCidr(c)));
  return [...out];
}

/**
 * Identities of `prefixes` (ipcache keys): the one `current` holds, WORLD for 0.0.0.0/0, else the
 * lowest from FIRST_IDENTITY that neither `current` nor this allocation holds.
 */
export function allocateIdentities(
  prefixes: readonly string[],
  current: ReadonlyMap<string, number>,
): Map<string, number> {
  const out = new Map<string, number>();
  const used = new Set(current.values());
  let next = FIRST_IDENTITY;
  for (const k of [...prefixes].sort()) {
    const had = current.get(k);
    if (decodeIpcacheKey(k).prefix === 0) out.set(k, IDENTITY_WORLD);
    else if (had !== undefined) out.set(k, had);
    else {
      while (used.has(next)) next++;
      used.add(next);
      out.set(k, next);
    }
  }
  return out;
}

const inside = (p: { base: number; prefix: number }, c: Cidr): boolean =>
  p.prefix >= c.prefix && p.base >= c.base && p.base < c.base + 2 ** (32 - c.prefix);

interface Prefixed {
  readonly base: number;
  readonly prefix: number;
  readonly id: number;
}

/** `ids`' prefixes decoded and sorted by base address, once per identity map (a sync's blocks share it). */
const indexes = new WeakMap<ReadonlyMap<string, number>, Prefixed[]>();
function indexOf(ids: ReadonlyMap<string, number>): Prefixed[] {
  let out = indexes.get(ids);
  if (!out) {
    out = [...ids].map(([k, id]) => ({ ...decodeIpcacheKey(k), id })).sort((a, b) => a.base - b.base);
    indexes.set(ids, out);
  }
  return out;
}

/** The first index of `sorted` whose base is at least `base`. */
function lowerBound(sorted: readonly Prefixed[], base: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]!.base < base) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * The identities an address block matches: every ipcache prefix inside its cidr and inside none of
 * its excepts. Only the prefixes whose base lies in the cidr are looked at (a binary search): 10,000
 * /32 blocks over 10,000 prefixes are 10,000 short walks, not 10^8 comparisons.
 */
export function blockIdentities(block: AddressBlock, ids: ReadonlyMap<string, number>): number[] {
  const cidr = parseCidr(block.cidr);
  const except = block.except.map((e) => parseCidr(e));
  const sorted = indexOf(ids);
  const end = cidr.base + 2 ** (32 - cidr.prefix);
  const out = new Set<number>();
  for (let i = lowerBound(sorted, cidr.base); i < sorted.length && sorted[i]!.base < end; i++) {
    const p = sorted[i]!;
    if (inside(p, cidr) && !except.some((e) => inside(p, e))) out.add(p.id);
  }
  return [...out].sort((a, b) => a - b);
}

/** A port range as LPM prefixes of the 16 port bits: `bits` leading bits of `port` fixed (0: every port). */
export function portPrefixes(from: number, to: number): { port: number; bits: number }[] {
  if (from <= 1 && to >= 65535) return [{ port: 0, bits: 0 }];
  const out: { port: number; bits: number }[] = [];
  for (let p = from; p <= to;) {
    let size = 1;
    while (size < 65536 && p % (size * 2) === 0 && p + size * 2 - 1 <= to) size *= 2;
    out.push({ port: p, bits: 16 - Math.log2(size) });
    p += size;
  }
  return out;
}

/** The (prefixlen, protocol, dport) tails of a rule's ports. */
function portTails(ports: ResolvedRule['ports']): { prefixlen: number; protocol: number; dport: number }[] {
  if (ports === 'any') return [{ prefixlen: PREFIX_ANY_PORT, protocol: 0, dport: 0 }];
  return ports.flatMap((r: PortRange) =>
    portPrefixes(r.from, r.to).map((x) => ({
      prefixlen: PREFIX_PROTOCOL + x.bits,
      protocol: PROTOCOL[r.protocol],
      dport: x.port,
    })),
  );
}

/** The identities a rule's peers match (IDENTITY_ANY for every peer). */
function ruleIdentities(
  rule: ResolvedRule,
  podIds: ReadonlyMap<string, number>,
  ids: ReadonlyMap<string, number>,
): number[] {
  if (rule.peers === 'any') return [IDENTITY_ANY];
  const out = new Set<number>();
  for (const name of rule.peers.pods) {
    const id = podIds.get(name);
    if (id !== undefined) out.add(id);
  }
  for (const b of rule.peers.blocks) for (const id of blockIdentities(b, ids)) out.add(id);
  return [...out];
}

/** The policy map's entries: for each endpoint and isolated direction, its policies' rules' identities × port prefixes. */
export function policyEntries(input: PolicyInput, ids: ReadonlyMap<string, number>): Map<string, string> {
  const podIds = new Map<string, number>();
  for (const p of input.pods) {
    const id = p.ip ? ids.get(ipcacheKey(parseIPv4(p.ip), 32)) : undefined;
    if (id !== undefined) podIds.set(p.name, id);
  }
  const byKey = new Map(input.policies.map((p) => [p.key, p]));
  const out = new Map<string, string>();
  for (const ep of input.endpoints)
    for (const direction of ['ingress', 'egress'] as Direction[])
      for (const key of ep[direction])
        for (const rule of byKey.get(key)?.[direction] ?? []) {
          const tails = portTails(rule.ports);
          for (const identity of ruleIdentities(rule, podIds, ids))
            for (const t of tails) out.set(policyKey({ ...t, endpoint: ep.ip, identity, direction }), u32(1));
        }
  return out;
}

/** policy_eps: the endpoints isolated in a direction at least. */
export function endpointEntries(input: PolicyInput): Map<string, string> {
  const out = new Map<string, string>();
  for (const ep of input.endpoints)
    if (ep.ip && (ep.ingress.length > 0 || ep.egress.length > 0))
      out.set(epKey(ep.ip), epValue(ep.ingress.length > 0, ep.egress.length > 0));
  return out;
}

/** Everything the maps should hold for `input`, given the identities the ipcache holds now. */
export function desired(input: PolicyInput, current: ReadonlyMap<string, number>): Desired {
  const ids = allocateIdentities(prefixesOf(input), current);
  return {
    eps: endpointEntries(input),
    ipcache: new Map([...ids].map(([k, id]) => [k, u32(id)])),
    policy: policyEntries(input, ids),
  };
}

/** What turns `have` into `want`: entries to set (new or changed) and keys to delete. */
export function diff(
  have: ReadonlyMap<string, string>,
  want: ReadonlyMap<string, string>,
): { set: [string, string][]; del: string[] } {
  return {
    set: [...want].filter(([k, v]) => have.get(k) !== v),
    del: [...have.keys()].filter((k) => !want.has(k)),
  };
}

/** One map write of a sync. */
export interface Step {
  readonly map: 'ipcache' | 'policy' | 'eps';
  readonly op: 'set' | 'del';
  readonly key: string;
  /** With op 'set'. */
  readonly value?: string;
}

/**
 * The writes from `have` to `want`, in the order that never opens what should be closed:
 * ipcache additions, policy additions, policy_eps changes (a newly isolated endpoint only after
 * its allows; one no longer isolated before its allows go), policy deletions, ipcache deletions.
 */
export function plan(have: Desired, want: Desired): Step[] {
  const ic = diff(have.ipcache, want.ipcache);
  const pol = diff(have.policy, want.policy);
  const eps = diff(have.eps, want.eps);
  const sets = (map: Step['map'], e: [string, string][]): Step[] =>
    e.map(([key, value]) => ({ map, op: 'set', key, value }));
  const dels = (map: Step['map'], keys: string[]): Step[] => keys.map((key) => ({ map, op: 'del', key }));
  return [
    ...sets('ipcache', ic.set),
    ...sets('policy', pol.set),
    ...sets('eps', eps.set),
    ...dels('eps', eps.del),
    ...dels('policy', pol.del),
    ...dels('ipcache', ic.del),
  ];
}
