/**
 * kube-proxy's nftables rule set, as `nft -f` input (design note).
 *
 * One table, `ip kube-proxy`, of its own: base chains hook nat prerouting/output (→ `services`),
 * nat postrouting (→ `masquerading`) and filter input/forward/output (→ the checks). `services`
 * is one lookup: the verdict map `service-ips`, keyed ClusterIP . protocol . port, whose element
 * is `goto service-<hash>-<ns/name/proto/port>`. That chain marks for masquerade what comes from
 * outside the pod range, sends a source in an endpoint's affinity set back to it, then picks an
 * endpoint (spread below); each `endpoint-<hash>-…` chain marks hairpin traffic,
 * records the source in its affinity set and DNATs. Ports without endpoints are elements of
 * `no-endpoint-services` (→ `reject-chain`); `cluster-ips` rejects other ports of a ClusterIP.
 *
 * A full sync deletes and re-creates the table in the same transaction (so nothing stale is left
 * and nothing is ever half there); a partial one rewrites only the changed ports' chains, sets
 * and map elements, and deletes what the gone ones leave. kube-proxy refills its maps on every
 * sync; this writes only the elements that changed.
 *
 * The spread: kube-proxy writes `numgen random mod N vmap { 0 : goto …, … }`, an anonymous map per
 * Service port. On this kernel (6.18) binding an anonymous set to a rule walks the whole
 * transaction (`__nft_set_trans_bind`), and naming one ("__map%d") scans every set of the table,
 * so a full sync of N Services costs O(N²) in the kernel: 78 s of system time at 10,000 (perf:
 * 40% in `__nft_set_trans_bind` already at 3,000). So the pick is iptables' cascade instead, with
 * no set: rule i of n is `numgen random mod (n−i) == 0 goto endpoint-i` (1/(n−i), given the ones
 * before missed), the last a plain `goto` — each endpoint 1/n, as with the vmap; 4 s at 10,000.
 */
import { servicePortName, type ProxyEndpoint, type ProxyInput, type ProxyService } from '../model';
import { hashName } from '../hash';
import { serviceKey, type SyncPlan } from '../plan';

export const TABLE = 'ip kube-proxy';

/** "default/NAME/PROTO/PORTNAME": kube-proxy's readable part of a chain name (no ':' allowed there). */
const base = (s: ProxyService): string => `default/${s.name}/${s.protocol}/${s.portName}`;
const epBase = (s: ProxyService, e: ProxyEndpoint): string => `${base(s)}__${e.ip}/${e.port}`;
const named = (prefix: string, text: string): string => `${prefix}-${hashName(text, 8)}-${text}`;

export const serviceChain = (s: ProxyService): string => named('service', base(s));
export const endpointChain = (s: ProxyService, e: ProxyEndpoint): string => named('endpoint', epBase(s, e));
export const affinitySet = (s: ProxyService, e: ProxyEndpoint): string => named('affinity', epBase(s, e));

const chainsOf = (s: ProxyService): string[] =>
  s.endpoints.length === 0 ? [] : [serviceChain(s), ...s.endpoints.map((e) => endpointChain(s, e))];
const setsOf = (s: ProxyService): string[] =>
  s.endpoints.length === 0 || s.affinitySeconds === undefined ? [] : s.endpoints.map((e) => affinitySet(s, e));

const KEY = 'ipv4_addr . inet_proto . inet_service';
const key = (s: ProxyService): string => `${s.clusterIp} . ${s.protocol} . ${s.port}`;

/** The table's fixed part: base chains, helpers, the maps and sets (empty). */
export function skeleton(serviceCidr: string): string[] {
  const chain = (name: string, spec = ''): string => `add chain ${TABLE} ${name}${spec ? ` { ${spec} ; }` : ''}`;
  const rule = (name: string, text: string): string => `add rule ${TABLE} ${name} ${text}`;
  const hook = (type: string, at: string, prio: number): string => `type ${type} hook ${at} priority ${prio}`;
  return [
    `add table ${TABLE} { comment "rules for kube-proxy" ; }`,
    `add set ${TABLE} cluster-ips { type ipv4_addr ; comment "Active ClusterIPs" ; }`,
    `add map ${TABLE} service-ips { type ${KEY} : verdict ; comment "ClusterIP, ExternalIP and LoadBalancer IP traffic" ; }`,
    `add map ${TABLE} no-endpoint-services { type ${KEY} : verdict ; comment "vmap to drop or reject packets to services with no endpoints" ; }`,
    chain('mark-for-masquerade'),
    rule('mark-for-masquerade', 'mark set mark or 0x4000'),
    chain('masquerading'),
    rule('masquerading', 'mark and 0x4000 == 0 return'),
    rule('masquerading', 'mark set mark xor 0x4000'),
    rule('masquerading', 'masquerade fully-random'),
    chain('reject-chain', 'comment "helper for @no-endpoint-services / @no-endpoint-nodeports"'),
    rule('reject-chain', 'reject'),
    chain('services'),
    rule('services', `ip daddr . meta l4proto . th dport vmap @service-ips`),
    chain('service-endpoints-check'),
    rule('service-endpoints-check', `ip daddr . meta l4proto . th dport vmap @no-endpoint-services`),
    chain('cluster-ips-check'),
    rule('cluster-ips-check', `ip daddr @cluster-ips reject comment "Reject traffic to invalid ports of ClusterIPs"`),
    rule('cluster-ips-check', `ip daddr ${serviceCidr} drop comment "Drop traffic to unallocated ClusterIPs"`),
    chain('filter-input', hook('filter', 'input', -110)),
    rule('filter-input', 'ct state new jump service-endpoints-check'),
    chain('filter-forward', hook('filter', 'forward', -110)),
    rule('filter-forward', 'ct state new jump service-endpoints-check'),
    rule('filter-forward', 'ct state new jump cluster-ips-check'),
    chain('filter-output', hook('filter', 'output', -110)),
    rule('filter-output', 'ct state new jump service-endpoints-check'),
    chain('filter-output-post-dnat', hook('filter', 'output', -90)),
    rule('filter-output-post-dnat', 'ct state new jump cluster-ips-check'),
    chain('nat-prerouting', hook('nat', 'prerouting', -100)),
    rule('nat-prerouting', 'jump services'),
    chain('nat-output', hook('nat', 'output', -100)),
    rule('nat-output', 'jump services'),
    chain('nat-postrouting', hook('nat', 'postrouting', 100)),
    rule('nat-postrouting', 'jump masquerading'),
  ];
}

/**
 * A Service port's chains (declared, flushed) and sets; its rules come after (serviceRules). A set
 * whose timeout changed (`retimed`) is deleted, once the chains that name it are flushed, and made
 * again: nft cannot change the timeout of a set that exists.
 */
function serviceChains(s: ProxyService, retimed: ReadonlySet<string> = new Set()): string[] {
  const out = chainsOf(s).flatMap((c) => [`add chain ${TABLE} ${c}`, `flush chain ${TABLE} ${c}`]);
  for (const set of setsOf(s)) {
    if (retimed.has(set)) out.push(`delete set ${TABLE} ${set}`);
    out.push(`add set ${TABLE} ${set} { type ipv4_addr ; flags dynamic,timeout ; timeout ${s.affinitySeconds}s ; }`);
  }
  return out;
}

/** The affinity sets of Service ports changed since `stale` whose timeout is another now. */
function retimedSets(current: readonly ProxyService[], stale: readonly ProxyService[]): Set<string> {
  const now = new Map(current.flatMap((s) => setsOf(s).map((set) => [set, s.affinitySeconds] as const)));
  return new Set(stale.flatMap((s) => setsOf(s).filter((set) => now.has(set) && now.get(set) !== s.affinitySeconds)));
}

/** The pick of an endpoint, uniform, without a set: `numgen random mod (n−i) == 0 goto …`, the last a `goto` (design note). */
export function spread(s: ProxyService): string[] {
  const n = s.endpoints.length;
  return s.endpoints.map((e, i) =>
    i < n - 1 ? `numgen random mod ${n - i} == 0 goto ${endpointChain(s, e)}` : `goto ${endpointChain(s, e)}`,
  );
}

/** The rules of a Service port with endpoints: its service chain and its endpoint chains. */
export function serviceRules(s: ProxyService, clusterCidr: string): string[] {
  const sc = serviceChain(s);
  const out = [
    `add rule ${TABLE} ${sc} ip daddr ${s.clusterIp} ${s.protocol} dport ${s.port} ip saddr != ${clusterCidr} jump mark-for-masquerade`,
  ];
  if (s.affinitySeconds !== undefined)
    for (const e of s.endpoints)
      out.push(`add rule ${TABLE} ${sc} ip saddr @${affinitySet(s, e)} goto ${endpointChain(s, e)}`);
  out.push(...spread(s).map((r) => `add rule ${TABLE} ${sc} ${r}`));
  for (const e of s.endpoints) {
    const ec = endpointChain(s, e);
    out.push(`add rule ${TABLE} ${ec} ip saddr ${e.ip} jump mark-for-masquerade`);
    if (s.affinitySeconds !== undefined) out.push(`add rule ${TABLE} ${ec} update @${affinitySet(s, e)} { ip saddr }`);
    out.push(`add rule ${TABLE} ${ec} meta l4proto ${s.protocol} dnat to ${e.ip}:${e.port}`);
  }
  return out;
}

/** A Service port's map element: to its chain, or (no endpoints) to the reject chain. */
function element(s: ProxyService, op: 'add' | 'delete'): string {
  if (s.endpoints.length === 0) {
    const value = op === 'add' ? ` comment "${servicePortName(s)}" : goto reject-chain` : '';
    return `${op} element ${TABLE} no-endpoint-services { ${key(s)}${value} }`;
  }
  return `${op} element ${TABLE} service-ips { ${key(s)}${op === 'add' ? ` : goto ${serviceChain(s)}` : ''} }`;
}

/** What one `nft -f` writes: its text, and how many rules, elements and deletions it holds. */
export interface NftScript {
  readonly text: string;
  readonly written: number;
}

export function nftScript(input: ProxyInput, plan: SyncPlan): NftScript {
  const current = input.services;
  const rewrite = plan.kind === 'full' ? current : current.filter((s) => plan.changed.has(serviceKey(s)));
  const lines: string[] = [];
  // One line at a time: spreading 100,000s of lines into push() overflows the stack.
  const add = (more: Iterable<string>): void => {
    for (const l of more) lines.push(l);
  };
  if (plan.kind === 'full') lines.push(`add table ${TABLE}`, `delete table ${TABLE}`, ...skeleton(input.serviceCidr));
  else {
    const usedIps = new Set(current.map((s) => s.clusterIp));
    const keepChains = new Set(current.flatMap(chainsOf));
    const keepSets = new Set(current.flatMap(setsOf));
    const goneChains = [...new Set(plan.stale.flatMap(chainsOf))].filter((c) => !keepChains.has(c));
    const goneSets = [...new Set(plan.stale.flatMap(setsOf))].filter((c) => !keepSets.has(c));
    const goneIps = [...new Set(plan.stale.map((s) => s.clusterIp))].filter((ip) => !usedIps.has(ip));
    add(plan.stale.map((s) => element(s, 'delete')));
    add(goneIps.map((ip) => `delete element ${TABLE} cluster-ips { ${ip} }`));
    const retimed = retimedSets(current, plan.stale);
    for (const s of rewrite) add(serviceChains(s, retimed));
    add(goneChains.map((c) => `flush chain ${TABLE} ${c}`));
    add(goneChains.map((c) => `delete chain ${TABLE} ${c}`));
    add(goneSets.map((c) => `delete set ${TABLE} ${c}`));
  }
  if (plan.kind === 'full') for (const s of rewrite) add(serviceChains(s));
  for (const s of rewrite) if (s.endpoints.length > 0) add(serviceRules(s, input.clusterCidr));
  for (const ip of new Set(rewrite.map((s) => s.clusterIp))) lines.push(`add element ${TABLE} cluster-ips { ${ip} }`);
  for (const s of rewrite) lines.push(element(s, 'add'));
  const written = lines.filter((l) => /^(add rule|add element|delete (element|chain|set))/.test(l)).length;
  return { text: lines.join('\n') + '\n', written };
}
