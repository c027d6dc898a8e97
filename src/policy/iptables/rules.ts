/**
 * The iptables design's rule set, Calico Felix's layout, as pure renderings (design note).
 *
 * filter FORWARD jumps (first rule) to `cnilab-pol-fwd`, the dispatch: one rule per isolated
 * direction of each local pod, `-s IP/32` → the pod's from-workload chain (`cnilab-pol-fw-<hash>`,
 * its egress policy), `-d IP/32` → its to-workload chain (`cnilab-pol-tw-<hash>`, its ingress).
 * An endpoint chain returns what conntrack knows (the replies of what was allowed), drops INVALID,
 * clears the policy mark bit (0x10000: clear of kube-proxy's 0x4000 and 0x8000), jumps to each of
 * its policies' chains for that direction (`cnilab-pol-pi-<hash>` ingress, `-po-` egress) and
 * returns as soon as one set the mark; what none allowed is dropped. Returning, never accepting:
 * a packet between two pods of this node goes on to the dispatch's rule for its destination, and
 * then to the rest of FORWARD.
 *
 * A policy chain has, per resolved rule, one rule per (peer match × port match) that sets the mark,
 * then a return if it is set. Peers: the pods of a rule are an ipset (hash:net of /32s); an
 * address block without except is an inline -s/-d; one with except an ipset hash:net of the
 * block with its excepts as `nomatch` entries (hash:net matches the longest prefix, so an address
 * in an except is no match) — one set per block, since two blocks' entries may overlap.
 * Ports: one protocol range as `--dport a:b`, several as multiport (15 slots a rule).
 *
 * Names carry 12 (chains, ≤ 28 chars) or 16 (sets, ≤ 31) characters of a hash of what they are
 * for, after a prefix (`cnilab-pol-`) that leftovers and clean-up find them by.
 */
import { hashName } from '../../proxy/hash';
import type { PolicyInput, PortRange, ResolvedRule } from '../model';

export const PREFIX = 'cnilab-pol-';
export const DISPATCH = `${PREFIX}fwd`;
/** The policy mark bit. */
export const MARK = '0x10000';
export const JUMP = `-A FORWARD -j ${DISPATCH}`;

export type Direction = 'ingress' | 'egress';

export const endpointChain = (dir: Direction, pod: string): string =>
  `${PREFIX}${dir === 'ingress' ? 'tw' : 'fw'}-${hashName(pod, 12)}`;
export const policyChain = (dir: Direction, key: string): string =>
  `${PREFIX}${dir === 'ingress' ? 'pi' : 'po'}-${hashName(`${dir}:${key}`, 12)}`;
export const setName = (what: string): string => `${PREFIX}${hashName(what, 16)}`;
/** The name a changed set is filled under before it is swapped in. */
export const tmpSet = (set: string): string => `${set}-t`;

/** A node's rendering: chains (their -A lines) and ipsets (their members, "cidr" or "cidr nomatch"). */
export interface IptRender {
  readonly chains: ReadonlyMap<string, readonly string[]>;
  readonly sets: ReadonlyMap<string, readonly string[]>;
}

const host = (ip: string): string => (ip.includes('/') ? ip : `${ip}/32`);
/** A block as hash:net entries: ipset takes prefixes /1 to /32, so /0 is its two halves. */
export const netEntries = (cidr: string): string[] => (cidr.endsWith('/0') ? ['0.0.0.0/1', '128.0.0.0/1'] : [cidr]);

/** The port matches of a rule: '' for any; else per protocol one range or multiport chunks of 15 slots. */
export function portMatches(ports: ResolvedRule['ports']): string[] {
  if (ports === 'any') return [''];
  const out: string[] = [];
  for (const proto of ['tcp', 'udp', 'sctp'] as const) {
    const ranges = ports.filter((p) => p.protocol === proto);
    if (ranges.some((r) => r.from <= 1 && r.to >= 65535)) {
      out.push(`-p ${proto}`);
      continue;
    }
    const one = (r: PortRange): string => (r.from === r.to ? `${r.from}` : `${r.from}:${r.to}`);
    if (ranges.length === 1) out.push(`-p ${proto} -m ${proto} --dport ${one(ranges[0]!)}`);
    if (ranges.length < 2) continue;
    let chunk: string[] = [];
    let slots = 0;
    const flush = (): void => {
      if (chunk.length > 0) out.push(`-p ${proto} -m multiport --dports ${chunk.join(',')}`);
      chunk = [];
      slots = 0;
    };
    for (const r of ranges) {
      const need = r.from === r.to ? 1 : 2;
      if (slots + need > 15) flush();
      chunk.push(one(r));
      slots += need;
    }
    flush();
  }
  return out;
}

/** The peer matches of a rule (and the sets they name), for a direction: the remote end is -s in, -d out. */
export function peerMatches(
  input: PolicyInput,
  rule: ResolvedRule,
  dir: Direction,
  id: string,
  sets: Map<string, string[]>,
): string[] {
  if (rule.peers === 'any') return [''];
  const [flag, side] = dir === 'ingress' ? ['-s', 'src'] : ['-d', 'dst'];
  const out: string[] = [];
  const ips = new Map(input.pods.map((p) => [p.name, p.ip]));
  const members = [...new Set(rule.peers.pods.map((n) => ips.get(n)).filter((ip): ip is string => !!ip))].sort();
  if (members.length > 0) {
    const set = setName(`${id}/pods`);
    sets.set(set, members.map(host));
    out.push(`-m set --match-set ${set} ${side}`);
  }
  rule.peers.blocks.forEach((b, i) => {
    const except = b.except.filter((e) => e !== b.cidr);
    if (except.length < b.except.length) return; // the whole block excepted: it matches nothing
    if (except.length === 0) return void out.push(`${flag} ${b.cidr}`);
    const set = setName(`${id}/block${i}`);
    sets.set(set, [...netEntries(b.cidr), ...except.flatMap(netEntries).map((e) => `${e} nomatch`)]);
    out.push(`-m set --match-set ${set} ${side}`);
  });
  return out;
}

const words = (...parts: string[]): string => parts.filter((p) => p).join(' ');

/** A policy chain's rules for one direction: per rule, mark what matches, then return if marked. */
export function policyRules(
  input: PolicyInput,
  key: string,
  dir: Direction,
  rules: readonly ResolvedRule[],
  sets: Map<string, string[]>,
): string[] {
  const chain = policyChain(dir, key);
  const out: string[] = [];
  rules.forEach((rule, i) => {
    const peers = peerMatches(input, rule, dir, `${key}/${dir}/${i}`, sets);
    const ports = portMatches(rule.ports);
    if (peers.length === 0 || ports.length === 0) return;
    for (const peer of peers)
      for (const port of ports) out.push(words(`-A ${chain}`, peer, port, `-j MARK --set-xmark ${MARK}/${MARK}`));
    out.push(`-A ${chain} -m mark --mark ${MARK}/${MARK} -j RETURN`);
  });
  return out;
}

/** An endpoint chain: conntrack first, the mark cleared, each policy's chain, return if marked, drop. */
export function endpointRules(chain: string, policies: readonly string[]): string[] {
  return [
    `-A ${chain} -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN`,
    `-A ${chain} -m conntrack --ctstate INVALID -j DROP`,
    `-A ${chain} -j MARK --set-xmark 0x0/${MARK}`,
    ...policies.flatMap((p) => [`-A ${chain} -j ${p}`, `-A ${chain} -m mark --mark ${MARK}/${MARK} -j RETURN`]),
    `-A ${chain} -j DROP`,
  ];
}

/** Everything a node programs, by chain and set. */
export function render(input: PolicyInput): IptRender {
  const chains = new Map<string, string[]>();
  const sets = new Map<string, string[]>();
  const has = new Set<string>();
  for (const p of input.policies)
    for (const dir of ['ingress', 'egress'] as const) {
      const rules = p[dir];
      if (!rules) continue;
      has.add(`${dir}:${p.key}`);
      chains.set(policyChain(dir, p.key), policyRules(input, p.key, dir, rules, sets));
    }
  const dispatch: string[] = [];
  for (const e of input.endpoints)
    for (const dir of ['egress', 'ingress'] as const) {
      if (e[dir].length === 0) continue;
      const chain = endpointChain(dir, e.pod);
      const pols = e[dir].filter((k) => has.has(`${dir}:${k}`)).map((k) => policyChain(dir, k));
      chains.set(chain, endpointRules(chain, pols));
      dispatch.push(`-A ${DISPATCH} ${dir === 'egress' ? '-s' : '-d'} ${host(e.ip)} -j ${chain}`);
    }
  chains.set(DISPATCH, dispatch);
  return { chains, sets };
}
