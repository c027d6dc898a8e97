/**
 * kube-proxy's IPVS mode, as the input of its four tools (design note). Every ClusterIP is a /32
 * on the dummy device kube-ipvs0 (so the node accepts the packets IPVS takes at input); each
 * Service port is an IPVS virtual server (round robin; ClientIP affinity is IPVS persistence)
 * whose real servers are its endpoints, by masquerading (NAT). iptables only masquerades, by two
 * ipsets: KUBE-CLUSTER-IP (ClusterIP,proto:port — traffic to it from outside the pod range gets
 * the mark) and KUBE-LOOP-BACK (endpoint,proto:port,endpoint — hairpin). Those chains are the
 * iptables mode's (../iptables/rules.ts), as kube-proxy's IPVS proxier shares them; they do not
 * change with Services, so only a full sync writes them. A port without endpoints is a virtual
 * server without real servers: IPVS answers its new connections with a port-unreachable.
 */
import type { ProxyInput, ProxyService } from '../model';
import { serviceKey, type SyncPlan } from '../plan';
import { comment, forwardRules, masqueradeRules } from '../iptables/rules';

export const DEVICE = 'kube-ipvs0';
export const SETS = ['KUBE-CLUSTER-IP', 'KUBE-LOOP-BACK'] as const;

const flag = (s: ProxyService): string => (s.protocol === 'tcp' ? '-t' : '-u');
const vip = (s: ProxyService): string => `${flag(s)} ${s.clusterIp}:${s.port}`;
const virtual = (s: ProxyService): string =>
  `-A ${vip(s)} -s rr${s.affinitySeconds !== undefined ? ` -p ${s.affinitySeconds}` : ''}`;
const real = (s: ProxyService, op: '-a' | '-d', e: ProxyService['endpoints'][number]): string =>
  `${op} ${vip(s)} -r ${e.ip}:${e.port}${op === '-a' ? ' -m -w 1' : ''}`;
const sameVirtual = (a: ProxyService, b: ProxyService): boolean => virtual(a) === virtual(b);

/** What the sync writes with each tool, and how many entries in all. */
export interface IpvsScripts {
  /** `ipvsadm -R` input: virtual and real servers added or deleted. */
  readonly ipvsadm: string;
  /** `ipset restore` input. */
  readonly ipset: string;
  /** `ip -batch` lines for kube-ipvs0's addresses. */
  readonly addresses: string[][];
  /** `iptables-restore --noflush` input; full syncs only. */
  readonly iptables?: string;
  readonly written: number;
}

function ipvsadmLines(input: ProxyInput, plan: SyncPlan, rewrite: readonly ProxyService[]): string[] {
  const out: string[] = [];
  if (plan.kind === 'full') {
    for (const s of rewrite) out.push(virtual(s), ...s.endpoints.map((e) => real(s, '-a', e)));
    return out;
  }
  const now = new Map(rewrite.map((s) => [serviceKey(s), s]));
  const kept = new Set<string>();
  for (const old of plan.stale) {
    const s = now.get(serviceKey(old));
    if (s === undefined || !sameVirtual(old, s)) {
      out.push(`-D ${vip(old)}`);
      continue;
    }
    kept.add(serviceKey(s));
    const has = new Set(s.endpoints.map((e) => `${e.ip}:${e.port}`));
    for (const e of old.endpoints) if (!has.has(`${e.ip}:${e.port}`)) out.push(real(s, '-d', e));
    const had = new Set(old.endpoints.map((e) => `${e.ip}:${e.port}`));
    for (const e of s.endpoints) if (!had.has(`${e.ip}:${e.port}`)) out.push(real(s, '-a', e));
  }
  for (const s of rewrite)
    if (!kept.has(serviceKey(s))) out.push(virtual(s), ...s.endpoints.map((e) => real(s, '-a', e)));
  return out;
}

const setEntries = (s: ProxyService): [string, string][] => [
  ['KUBE-CLUSTER-IP', `${s.clusterIp},${s.protocol}:${s.port}`],
  ...s.endpoints.map((e): [string, string] => ['KUBE-LOOP-BACK', `${e.ip},${s.protocol}:${e.port},${e.ip}`]),
];

/**
 * The ipsets' lines. A partial sync deletes a stale entry only when no current Service port makes
 * it: a KUBE-LOOP-BACK entry (endpoint, port, endpoint) is every Service's that has that endpoint
 * port, and removing one Service must not end another's hairpin masquerade.
 */
function ipsetLines(input: ProxyInput, plan: SyncPlan, rewrite: readonly ProxyService[]): string[] {
  const out: string[] = [];
  if (plan.kind === 'full') {
    out.push(`create KUBE-CLUSTER-IP hash:ip,port family inet hashsize 1024 maxelem 65536 -exist`);
    out.push(`create KUBE-LOOP-BACK hash:ip,port,ip family inet hashsize 1024 maxelem 65536 -exist`);
    out.push(...SETS.map((s) => `flush ${s}`));
  } else if (plan.stale.length > 0) {
    const wanted = new Set(input.services.flatMap((s) => setEntries(s).map(([set, entry]) => `${set} ${entry}`)));
    for (const s of plan.stale)
      for (const [set, entry] of setEntries(s))
        if (!wanted.has(`${set} ${entry}`)) out.push(`del ${set} ${entry} -exist`);
  }
  for (const s of rewrite) for (const [set, entry] of setEntries(s)) out.push(`add ${set} ${entry} -exist`);
  return out;
}

/** The masquerade chains, by ipset; kube-proxy's IPVS proxier's nat and filter rules for ClusterIPs. */
export function iptablesText(clusterCidr: string): string {
  const set = '-m set --match-set KUBE-CLUSTER-IP dst,dst';
  return (
    [
      '*filter',
      ':KUBE-FORWARD - [0:0]',
      ...forwardRules(),
      'COMMIT',
      '*nat',
      ...['KUBE-SERVICES', 'KUBE-POSTROUTING', 'KUBE-MARK-MASQ'].map((c) => `:${c} - [0:0]`),
      `-A KUBE-POSTROUTING ${comment('Kubernetes endpoints dst ip:port, source ip for solving hairpin purpose')} -m set --match-set KUBE-LOOP-BACK dst,dst,src -j MASQUERADE`,
      ...masqueradeRules(),
      `-A KUBE-SERVICES ! -s ${clusterCidr} ${comment('Kubernetes service cluster ip + port for masquerade purpose')} ${set} -j KUBE-MARK-MASQ`,
      `-A KUBE-SERVICES ${set} -j ACCEPT`,
      'COMMIT',
    ].join('\n') + '\n'
  );
}

export function ipvsScripts(input: ProxyInput, plan: SyncPlan): IpvsScripts {
  const rewrite = plan.kind === 'full' ? input.services : input.services.filter((s) => plan.changed.has(serviceKey(s)));
  const ipvsadm = ipvsadmLines(input, plan, rewrite);
  const ipset = ipsetLines(input, plan, rewrite);
  const used = new Set(input.services.map((s) => s.clusterIp));
  const gone =
    plan.kind === 'full' ? [] : [...new Set(plan.stale.map((s) => s.clusterIp))].filter((ip) => !used.has(ip));
  const addresses = [
    ...(plan.kind === 'full' ? [['addr', 'flush', 'dev', DEVICE]] : []),
    ...gone.map((ip) => ['addr', 'del', `${ip}/32`, 'dev', DEVICE]),
    ...[...new Set(rewrite.map((s) => s.clusterIp))].map((ip) => ['addr', 'replace', `${ip}/32`, 'dev', DEVICE]),
  ];
  const iptables = plan.kind === 'full' ? iptablesText(input.clusterCidr) : undefined;
  const written = ipvsadm.length + ipset.filter((l) => /^(add|del) /.test(l)).length + addresses.length;
  return {
    ipvsadm: ipvsadm.join('\n') + '\n',
    ipset: ipset.join('\n') + '\n',
    addresses,
    written,
    ...(iptables ? { iptables } : {}),
  };
}
