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
 * peers, protocol and port, `meta mark set … return`. A rule's peers — pod addresses and blocks
 * less their excepts, disjoint ranges (ranges.ts) — are in the rule: one address or range as it
 * is, several as an anonymous set. Not a named set: nft 1.0.6 reads every named set of the table
 * before a transaction that adds one (3.7 s at 10,000, scripts/policy-cache-cost.ts), so a policy
 * added to 10,000 would wait for it; a pod's new address rewrites its policy's (small) chain
 * instead. Ports are per-range rules.
 *
 * Full sync: the table deleted and made again in the one transaction (atomic: no moment without
 * it). Partial: a chain that only gained rules gets them inserted by position, other changed chains flushed and refilled, map
 * elements added and deleted, gone chains deleted — one transaction too.
 */
import { hashName } from '../../proxy/hash';
import { chainEdit, diffParts, type ChainEdit } from '../diff';
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

/** A node's rendering: chains (rule texts) and map elements ("ingress 10.0.0.1" → verdict). */
export interface NftRender {
  readonly chains: ReadonlyMap<string, readonly string[]>;
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
function policyRules(input: PolicyInput, dir: Direction, rules: readonly ResolvedRule[]): string[] {
  const ips = new Map(input.pods.map((p) => [p.name, p.ip]));
  const out: string[] = [];
  rules.forEach((rule) => {
    let peer = '';
    if (rule.peers !== 'any') {
      const addrs = rule.peers.pods.map((n) => ips.get(n)).filter((ip): ip is string => !!ip);
      const ranges = peerRanges(addrs, rule.peers.blocks);
      if (ranges.length === 0) return; // no peer: the rule allows nothing
      // an anonymous set in the rule: nft 1.0.6 reads every named set of the table before a transaction
      // that adds one (3.7 s at 10,000, scripts/policy-cache-cost.ts); a pod's new address rewrites
      // its policy's small chain instead of a set's members
      const els = ranges.map(element);
      peer = `ip ${dir === 'ingress' ? 'saddr' : 'daddr'} ${els.length === 1 ? els[0] : `{ ${els.join(', ')} }`}`;
    }
    for (const port of portMatches(rule.ports))
      out.push([peer, port, `meta mark set meta mark | ${MARK} return`].filter((w) => w).join(' '));
  });
  return out;
}

/**
 * An endpoint chain's rules: conntrack, the mark cleared, its policies' chain (`<chain>-p`), then
 * return if one marked, else drop. The policies' chain holds only each policy's jump and a return
 * if marked — no final verdict — so a policy that sorts after the others is an `add rule`, which
 * nft writes without reading the table's rules first (an insert by position reads them all: 3.6 s
 * at 10,000 policies, scripts/policy-cache-cost.ts).
 */
export function endpointRules(policiesChain: string): string[] {
  return [
    'ct state established,related return',
    'ct state invalid drop',
    `meta mark set meta mark & ${UNMARK}`,
    `jump ${policiesChain}`,
    `meta mark & ${MARK} == ${MARK} return`,
    'drop',
  ];
}

/** The policies' chain of an endpoint chain: each policy's jump, then return if it marked. */
export const policiesRules = (policies: readonly string[]): string[] =>
  policies.flatMap((p) => [`jump ${p}`, `meta mark & ${MARK} == ${MARK} return`]);

export function render(input: PolicyInput): NftRender {
  const chains = new Map<string, string[]>();
  const elements = new Map<string, string[]>();
  const has = new Set<string>();
  for (const p of input.policies)
    for (const dir of ['ingress', 'egress'] as const) {
      const rules = p[dir];
      if (!rules) continue;
      has.add(`${dir}:${p.key}`);
      chains.set(policyChain(dir, p.key), policyRules(input, dir, rules));
    }
  for (const e of input.endpoints)
    for (const dir of ['ingress', 'egress'] as const) {
      if (e[dir].length === 0) continue;
      const chain = endpointChain(dir, e.pod);
      chains.set(
        `${chain}-p`,
        policiesRules(e[dir].filter((k) => has.has(`${dir}:${k}`)).map((k) => policyChain(dir, k))),
      );
      chains.set(chain, endpointRules(`${chain}-p`));
      elements.set(`${dir} ${e.ip}`, [`jump ${chain}`]);
    }
  return { chains, elements };
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

const mapElement = (op: 'add' | 'delete', key: string, verdict?: string): string => {
  const [map, ip] = key.split(' ');
  return `${op} element ${TABLE} ${map} { ${ip}${verdict ? ` : ${verdict}` : ''} }`;
};

/** What a line writes: a rule, each element it adds, a deletion; declarations and flushes nothing. */
const counted = (l: string): number =>
  l.startsWith('add element ')
    ? l.split(', ').length
    : /^(add rule|insert rule|delete (element|chain|set)) /.test(l)
      ? 1
      : 0;

/** What one `nft -f` writes: its text, and its rules, elements and deletions. */
export interface NftScript {
  readonly text: string;
  readonly written: number;
}

/**
 * Rules `e` inserts into chain `c` of `length` rules: each before the rule now at its position (nft
 * counts positions as the transaction goes, so rule i of the edit goes at index at − 1 + i), or
 * appended when they come after every rule.
 */
export function insertLines(c: string, e: ChainEdit, length: number): string[] {
  return e.insert.map((r, i) =>
    e.at - 1 >= length ? `add rule ${TABLE} ${c} ${r}` : `insert rule ${TABLE} ${c} index ${e.at - 1 + i} ${r}`,
  );
}

/** The transaction from `prev` (undefined: whatever is there, the table replaced whole) to `next`. */
export function nftScript(next: NftRender, prev: NftRender | undefined): NftScript {
  const lines: string[] = [];
  const diffed = diffParts(prev?.chains, next.chains);
  const els = diffParts(prev?.elements, next.elements);
  // a chain that only gained rules gets them inserted by position (nft has no delete by position)
  const inserts = new Map<string, ChainEdit>();
  for (const c of diffed.changed) {
    const old = prev?.chains.get(c);
    const e = old && chainEdit(old, next.chains.get(c)!);
    if (e && e.remove === 0) inserts.set(c, e);
  }
  const chains = { changed: diffed.changed.filter((c) => !inserts.has(c)), gone: diffed.gone };
  if (!prev) lines.push(`add table ${TABLE}`, `delete table ${TABLE}`, ...skeleton());
  for (const k of [...els.gone, ...els.changed.filter((k) => prev?.elements.has(k))])
    lines.push(mapElement('delete', k));
  for (const c of chains.changed)
    lines.push(`add chain ${TABLE} ${c}`, ...(prev?.chains.has(c) ? [`flush chain ${TABLE} ${c}`] : []));
  for (const c of chains.changed) for (const r of next.chains.get(c)!) lines.push(`add rule ${TABLE} ${c} ${r}`);
  for (const [c, e] of inserts) lines.push(...insertLines(c, e, prev!.chains.get(c)!.length));
  for (const k of els.changed) lines.push(mapElement('add', k, next.elements.get(k)![0]));
  for (const c of chains.gone) lines.push(`flush chain ${TABLE} ${c}`);
  for (const c of chains.gone) lines.push(`delete chain ${TABLE} ${c}`);
  const text = lines.length > 0 ? lines.join('\n') + '\n' : '';
  return { text, written: lines.reduce((n, l) => n + counted(l), 0) };
}
