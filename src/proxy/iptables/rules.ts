/**
 * kube-proxy's iptables rule set, as iptables-restore input (design note).
 *
 * nat: PREROUTING and OUTPUT jump to KUBE-SERVICES (tables.ts inserts those jumps), which holds
 * one rule per Service port with endpoints, matching ClusterIP, protocol and port, jumping to that
 * port's KUBE-SVC-<hash>. The KUBE-SVC chain first marks for masquerade what comes from outside
 * the cluster's pod range, then (with ClientIP affinity) sends a source seen recently to the
 * endpoint it had, then spreads over the endpoints: rule i of n matches with probability
 * 1/(n−i), the last always. Each KUBE-SEP-<hash> marks hairpin traffic (the endpoint reaching
 * itself through the Service) and DNATs. Marked packets are masqueraded in KUBE-POSTROUTING.
 * filter: KUBE-SERVICES rejects new connections to Service ports without endpoints.
 *
 * A partial sync (kube-proxy's MinimizeIPTablesRestore) rewrites the fixed chains and
 * KUBE-SERVICES, declares (so flushes) and refills only the changed ports' chains, and deletes
 * the chains no port needs any more; --noflush leaves every other chain as it is.
 *
 * The nat chains are declared in descending name order: iptables-nft 1.8.9 keeps, for a
 * --noflush restore, a sorted list of the chain names it has seen (cache_chain_list_insert) and
 * walks it from the smallest name for every declaration and rule, so a restore is O(chains ×
 * lines). Names arriving largest first stop that walk at once for the declarations: 3,000
 * Services load in 2.8 s instead of 10.4 s, 10,000 in 29 s instead of over 120 s (2026-12-06).
 * The rules still walk to their chain's rank, so it stays quadratic: see docs/services.md.
 */
import { servicePortName, type ProxyEndpoint, type ProxyInput, type ProxyService } from '../model';
import { hashName } from '../hash';
import { serviceKey, type SyncPlan } from '../plan';

/** kube-proxy's masquerade bit (--masquerade-bit 14). */
export const MASQ_MARK = '0x4000';

/** KUBE-SVC-<16 of base32(sha256(servicePortName + protocol))>. */
export const svcChain = (s: ProxyService): string => `KUBE-SVC-${hashName(servicePortName(s) + s.protocol, 16)}`;

/** KUBE-SEP-<16 of base32(sha256(servicePortName + protocol + "ip:port"))>. */
export const sepChain = (s: ProxyService, e: ProxyEndpoint): string =>
  `KUBE-SEP-${hashName(`${servicePortName(s)}${s.protocol}${e.ip}:${e.port}`, 16)}`;

/** A comment as kube-proxy writes it: quoted when it holds a space. */
export const comment = (text: string): string => `-m comment --comment ${/\s/.test(text) ? `"${text}"` : text}`;

/** 1/n as kube-proxy prints it (%0.10f). */
export const probability = (n: number): string => (1 / n).toFixed(10);

/** The chains a Service port owns in nat: its KUBE-SVC and one KUBE-SEP per endpoint; none without endpoints. */
export const chainsOf = (s: ProxyService): string[] =>
  s.endpoints.length === 0 ? [] : [svcChain(s), ...s.endpoints.map((e) => sepChain(s, e))];

const match = (s: ProxyService): string => `-m ${s.protocol} -p ${s.protocol} -d ${s.clusterIp} --dport ${s.port}`;

/** KUBE-POSTROUTING and KUBE-MARK-MASQ: masquerade what carries the mark, once (the ipvs mode's too). */
export function masqueradeRules(): string[] {
  return [
    `-A KUBE-POSTROUTING -m mark ! --mark ${MASQ_MARK}/${MASQ_MARK} -j RETURN`,
    `-A KUBE-POSTROUTING -j MARK --xor-mark ${MASQ_MARK}`,
    `-A KUBE-POSTROUTING ${comment('kubernetes service traffic requiring SNAT')} -j MASQUERADE`,
    `-A KUBE-MARK-MASQ -j MARK --or-mark ${MASQ_MARK}`,
  ];
}

/** filter KUBE-FORWARD: accept what is marked for masquerade and the rest of its connections (the ipvs mode's too). */
export function forwardRules(): string[] {
  return [
    '-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP',
    `-A KUBE-FORWARD ${comment('kubernetes forwarding rules')} -m mark --mark ${MASQ_MARK}/${MASQ_MARK} -j ACCEPT`,
    `-A KUBE-FORWARD ${comment('kubernetes forwarding conntrack rule')} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`,
  ];
}

/** The rules of one Service port's KUBE-SVC and KUBE-SEP chains (it has endpoints). */
export function serviceRules(s: ProxyService, clusterCidr: string): string[] {
  const name = servicePortName(s);
  const svc = svcChain(s);
  const out = [`-A ${svc} ${comment(`${name} cluster IP`)} ${match(s)} ! -s ${clusterCidr} -j KUBE-MARK-MASQ`];
  const eps = s.endpoints.map((e) => ({ e, chain: sepChain(s, e), to: `${name} -> ${e.ip}:${e.port}` }));
  if (s.affinitySeconds !== undefined)
    for (const { chain, to } of eps)
      out.push(
        `-A ${svc} ${comment(to)} -m recent --name ${chain} --rcheck --seconds ${s.affinitySeconds} --reap -j ${chain}`,
      );
  eps.forEach(({ chain, to }, i) => {
    const spread = i < eps.length - 1 ? ` -m statistic --mode random --probability ${probability(eps.length - i)}` : '';
    out.push(`-A ${svc} ${comment(to)}${spread} -j ${chain}`);
  });
  for (const { e, chain } of eps) {
    const recent = s.affinitySeconds !== undefined ? ` -m recent --name ${chain} --set` : '';
    out.push(`-A ${chain} ${comment(name)} -s ${e.ip} -j KUBE-MARK-MASQ`);
    out.push(
      `-A ${chain} ${comment(name)}${recent} -m ${s.protocol} -p ${s.protocol} -j DNAT --to-destination ${e.ip}:${e.port}`,
    );
  }
  return out;
}

/** What one restore writes: its text, and how many rules it appends or chains it deletes. */
export interface RestoreText {
  readonly text: string;
  readonly written: number;
}

/** Chain names in descending byte order, the order iptables-nft takes fastest (design note). */
export const largestFirst = (names: readonly string[]): string[] =>
  [...names].sort((a, b) => (a < b ? 1 : a > b ? -1 : 0));

const NAT_FIXED = ['KUBE-SERVICES', 'KUBE-POSTROUTING', 'KUBE-MARK-MASQ'];
const FILTER_FIXED = ['KUBE-SERVICES', 'KUBE-EXTERNAL-SERVICES', 'KUBE-FORWARD'];

/** The filter table, always whole (one rule per Service port without endpoints). */
export function filterTable(input: ProxyInput): string[] {
  const lines = ['*filter', ...FILTER_FIXED.map((c) => `:${c} - [0:0]`)];
  for (const s of input.services)
    if (s.endpoints.length === 0)
      lines.push(`-A KUBE-SERVICES ${comment(`${servicePortName(s)} has no endpoints`)} ${match(s)} -j REJECT`);
  lines.push(...forwardRules(), 'COMMIT');
  return lines;
}

/**
 * The iptables-restore input (for `iptables-restore --noflush`) of a sync. `existing` are the
 * KUBE-SVC/KUBE-SEP chains already in the kernel, read before a full sync: those no Service port
 * needs are deleted. A partial plan only rewrites its changed ports and deletes its stale ones.
 */
export function restoreText(input: ProxyInput, plan: SyncPlan, existing: readonly string[] = []): RestoreText {
  const rewrite = plan.kind === 'full' ? input.services : input.services.filter((s) => plan.changed.has(serviceKey(s)));
  const keep = new Set(input.services.flatMap(chainsOf));
  const candidates = plan.kind === 'full' ? existing : plan.stale.flatMap(chainsOf);
  const gone = [...new Set(candidates)].filter((c) => !keep.has(c));
  const nat = [
    '*nat',
    ...largestFirst([...NAT_FIXED, ...rewrite.flatMap(chainsOf), ...gone]).map((c) => `:${c} - [0:0]`),
  ];
  nat.push(...masqueradeRules());
  for (const s of input.services)
    if (s.endpoints.length > 0)
      nat.push(`-A KUBE-SERVICES ${comment(`${servicePortName(s)} cluster IP`)} ${match(s)} -j ${svcChain(s)}`);
  for (const s of rewrite) if (s.endpoints.length > 0) for (const l of serviceRules(s, input.clusterCidr)) nat.push(l);
  for (const c of gone) nat.push(`-X ${c}`);
  nat.push('COMMIT');
  const lines = [...filterTable(input), ...nat];
  const written = lines.filter((l) => l.startsWith('-A ') || l.startsWith('-X ')).length;
  return { text: lines.join('\n') + '\n', written };
}
