/**
 * The nftables design's rule set, Felix's layout in nftables, as `nft -f` input (design note).
 *
 * One table of its own, `ip cnilab-policy`. Its `forward` base chain (filter hook, priority 0,
 * policy accept) looks a packet's source up in the verdict map `egress` and its destination in
 * `ingress`: a local pod isolated in that direction is an element, `IP : jump ep-out-<hash>` /
 * `ep-in-<hash>`; others are not there and pass. An endpoint chain returns what conntrack knows
 * (replies of what was allowed), drops INVALID, clears the mark bit 0x10000, jumps to each of its
 * policies' chains (`pol-in-<hash>`, `pol-out-<hash>`) and returns once one set the mark; what
 * none allowed is dropped. Returning, never accepting, so a packet between two pods of this node
 * is looked up in `ingress` too. A policy chain has one rule per (resolved rule × port match):
 * peer set, protocol and port, `meta mark set … return`. A rule's peers — pod addresses and blocks
 * less their excepts — are one named interval set (`peers-<hash>`), disjoint ranges (ranges.ts).
 * Ports are per-range rules (no anonymous sets: binding one to a rule costs a walk of the whole
 * transaction on this kernel, see the proxy's nftables rules.ts).
 *
 * Full sync: the table deleted and made again in the one transaction (atomic: no moment without
 * it). Partial: changed chains flushed and refilled, changed sets flushed and refilled, map
 * elements added and deleted, gone chains and sets deleted — one transaction too.
 */
import { hashName } from '../../proxy/hash';
import { diffParts } from '../diff';
import type { PolicyInput, ResolvedRule } from '../model';
import { element, peerRanges } from './ranges';

export const TABLE = 'ip cnilab-policy';
export const MARK = '0x00010000';
const UNMARK = '0xfffeffff';

type Direction = 'ingress' | 'egress';
const short = (dir: Direction): string => (dir === 'ingress' ? 'in' : 'out');
export const endpointChain = (dir: Direction, pod: string): string => `ep-${short(dir)}-${hashName(pod, 12)}`;
export const policyChain = (dir: Direction, key: string): string =>
  `pol-${short(dir)}-${hashName(`${dir}:${key}`, 12)}`;
export const peerSet = (id: string): string => `peers-${hashName(id, 16)}`;

/** A node's rendering: chains (rule texts), sets (elements), map elements ("ingress 10.0.0.1" → verdict). */
export interface NftRender {
  readonly chains: ReadonlyMap<string, readonly string[]>;
  readonly sets: ReadonlyMap<string, readonly string[]>;
  readonly elements: ReadonlyMap<string, readonly string[]>;
}

/** A rule's port matches: '' for any; a protocol's every port by protocol alone. */
export function portMatches(ports: ResolvedRule['ports']): string[] {
  if (ports === 'any') return [''];
  return ports.map((p) =>
    p.from <= 1 && p.to >= 65535
      ? `meta l4proto ${p.protocol}`
      : `meta l4proto ${p.protocol} th dport ${p.from === p.to ? p.from : `${p.from}-${p.to}`}`,
  );
}

/** A policy chain's rules: per resolved rule, per port match, mark and return. */
function policyRules(
  input: PolicyInput,
  key: string,
  dir: Direction,
  rules: readonly ResolvedRule[],
  sets: Map<string, string[]>,
): string[] {
  const ips = new Map(input.pods.map((p) => [p.name, p.ip]));
  const out: string[] = [];
  rules.forEach((rule, i) => {
    let peer = '';
    if (rule.peers !== 'any') {
      const addrs = rule.peers.pods.map((n) => ips.get(n)).filter((ip): ip is string => !!ip);
      const ranges = peerRanges(addrs, rule.peers.blocks);
      if (ranges.length === 0) return; // no peer: the rule allows nothing
      const set = peerSet(`${key}/${dir}/${i}`);
      sets.set(set, ranges.map(element));
      peer = `ip ${dir === 'ingress' ? 'saddr' : 'daddr'} @${set}`;
    }
    for (const port of portMatches(rule.ports))
      out.push([peer, port, `meta mark set meta mark | ${MARK} return`].filter((w) => w).join(' '));
  });
  return out;
}

/** An endpoint chain's rules: conntrack, the mark cleared, each policy then return if marked, drop. */
export function endpointRules(policies: readonly string[]): string[] {
  return [
    'ct state established,related return',
    'ct state invalid drop',
    `meta mark set meta mark & ${UNMARK}`,
    ...policies.flatMap((p) => [`jump ${p}`, `meta mark & ${MARK} == ${MARK} return`]),
    'drop',
  ];
}

export function render(input: PolicyInput): NftRender {
  const chains = new Map<string, string[]>();
  const sets = new Map<string, string[]>();
  const elements = new Map<string, string[]>();
  const has = new Set<string>();
  for (const p of input.policies)
    for (const dir of ['ingress', 'egress'] as const) {
      const rules = p[dir];
      if (!rules) continue;
      has.add(`${dir}:${p.key}`);
      chains.set(policyChain(dir, p.key), policyRules(input, p.key, dir, rules, sets));
    }
  for (const e of input.endpoints)
    for (const dir of ['ingress', 'egress'] as const) {
      if (e[dir].length === 0) continue;
      const chain = endpointChain(dir, e.pod);
      chains.set(chain, endpointRules(e[dir].filter((k) => has.has(`${dir}:${k}`)).map((k) => policyChain(dir, k))));
      elements.set(`${dir} ${e.ip}`, [`jump ${chain}`]);
    }
  return { chains, sets, elements };
}

/** The table's fixed part: the maps and the forward base chain. */
export function skeleton(): string[] {
  return [
    `add table ${TABLE} { comment "cnilab NetworkPolicy (Felix's layout)" ; }`,
    `add map ${TABLE} ingress { type ipv4_addr : verdict ; }`,
    `add map ${TABLE} egress { type ipv4_addr : verdict ; }`,
    `add chain ${TABLE} forward { type filter hook forward priority 0 ; policy accept ; }`,
    `add rule ${TABLE} forward ip saddr vmap @egress`,
    `add rule ${TABLE} forward ip daddr vmap @ingress`,
  ];
}

const setDecl = (s: string): string => `add set ${TABLE} ${s} { type ipv4_addr ; flags interval ; }`;
const fill = (s: string, els: readonly string[]): string[] =>
  els.length > 0 ? [`add element ${TABLE} ${s} { ${els.join(', ')} }`] : [];
const mapElement = (op: 'add' | 'delete', key: string, verdict?: string): string => {
  const [map, ip] = key.split(' ');
  return `${op} element ${TABLE} ${map} { ${ip}${verdict ? ` : ${verdict}` : ''} }`;
};

/** What a line writes: a rule, each element it adds, a deletion; declarations and flushes nothing. */
const counted = (l: string): number =>
  l.startsWith('add element ') ? l.split(', ').length : /^(add rule|delete (element|chain|set)) /.test(l) ? 1 : 0;

/** What one `nft -f` writes: its text, and its rules, elements and deletions. */
export interface NftScript {
  readonly text: string;
  readonly written: number;
}

/** The transaction from `prev` (undefined: whatever is there, the table replaced whole) to `next`. */
export function nftScript(next: NftRender, prev: NftRender | undefined): NftScript {
  const lines: string[] = [];
  const chains = diffParts(prev?.chains, next.chains);
  const sets = diffParts(prev?.sets, next.sets);
  const els = diffParts(prev?.elements, next.elements);
  if (!prev) lines.push(`add table ${TABLE}`, `delete table ${TABLE}`, ...skeleton());
  for (const k of [...els.gone, ...els.changed.filter((k) => prev?.elements.has(k))])
    lines.push(mapElement('delete', k));
  for (const c of chains.changed)
    lines.push(`add chain ${TABLE} ${c}`, ...(prev?.chains.has(c) ? [`flush chain ${TABLE} ${c}`] : []));
  for (const s of sets.changed) {
    lines.push(prev?.sets.has(s) ? `flush set ${TABLE} ${s}` : setDecl(s));
    lines.push(...fill(s, next.sets.get(s)!));
  }
  for (const c of chains.changed) for (const r of next.chains.get(c)!) lines.push(`add rule ${TABLE} ${c} ${r}`);
  for (const k of els.changed) lines.push(mapElement('add', k, next.elements.get(k)![0]));
  for (const c of chains.gone) lines.push(`flush chain ${TABLE} ${c}`);
  for (const c of chains.gone) lines.push(`delete chain ${TABLE} ${c}`);
  for (const s of sets.gone) lines.push(`delete set ${TABLE} ${s}`);
  const text = lines.length > 0 ? lines.join('\n') + '\n' : '';
  return { text, written: lines.reduce((n, l) => n + counted(l), 0) };
}
