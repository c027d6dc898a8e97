/**
 * The NetworkPolicies the policy-scale test creates (pure). At N rules: N fillers, each selecting
 * the server pod (by its cnilab.io/pod label) with one ingress rule from an ipBlock /32 of the
 * shared address space 100.64.0.0/10 (RFC 6598: no pod, node or Service of a lab uses it) on the
 * probed port — rules that the probed connection walks past and never matches — then the probe
 * policy, named to sort after every filler, allowing the client pod on the probed ports. Where
 * rules are walked in order (Calico's per-endpoint chains hold one jump per policy, in the
 * policies' order), the probed connection therefore matches the last one; the eBPF design's policy
 * map is looked up by identity and port, where order is nothing. At N = 0 there is no policy at
 * all: the server is not isolated (the baseline). The realization policy, applied and deleted
 * while timed, allows a second client and sorts after the probe.
 */
import { POD_LABEL } from '../../apiserver/model';
import { CnilabError } from '../../lib/errors';
import { cidrSize, containsIPv4, formatIPv4, overlaps, parseCidr } from '../../lib/ip';
import { POD_NAMESPACE, policyKey, type NetworkPolicy } from '../../policy/model';

/** Fillers: pscale-f00001, pscale-f00002, … (below the probe's name). */
export const FILLER_PREFIX = 'pscale-f';
/** The probe policy: after every filler. */
export const PROBE_POLICY = 'zz-pscale-probe';
/** The realization policy: after the probe, so that it too is the last rule walked. */
export const REALIZE_POLICY = 'zz-pscale-realize';
/** The fillers' peers: one /32 each of RFC 6598's shared address space. */
export const FILLER_CIDR = '100.64.0.0/10';
/** The port the server pod's crr server listens on (the fillers' port, the probe's, the realization's). */
export const CRR_PORT = 18081;
/** The port the server pod's iperf3 listens on (the probe's too). */
export const IPERF_PORT = 18201;

export const fillerName = (i: number): string => `${FILLER_PREFIX}${String(i).padStart(5, '0')}`;

/** Filler i's peer: the i-th address of FILLER_CIDR, as a /32. */
export function fillerPeer(i: number): string {
  const c = parseCidr(FILLER_CIDR);
  if (i < 1 || i >= cidrSize(c) - 1) throw new CnilabError('INVALID_INPUT', `filler ${i}: outside ${FILLER_CIDR}`);
  return `${formatIPv4(c.ip + i)}/32`;
}

const selecting = (pod: string): NetworkPolicy['podSelector'] => ({ matchLabels: { [POD_LABEL]: pod } });

const ingressOnly = (
  name: string,
  server: string,
  peers: NonNullable<NetworkPolicy['ingress'][number]['peers']>,
  ports: readonly number[],
): NetworkPolicy => ({
  name,
  namespace: POD_NAMESPACE,
  podSelector: selecting(server),
  policyTypes: ['Ingress'],
  ingress: [{ peers, ports: ports.map((port) => ({ protocol: 'tcp' as const, port })) }],
  egress: [],
});

/** Fillers `from` to `to` (1-based, inclusive), each selecting `server`. */
export function fillerPolicies(from: number, to: number, server: string): NetworkPolicy[] {
  const out: NetworkPolicy[] = [];
  for (let i = from; i <= to; i++)
    out.push(ingressOnly(fillerName(i), server, [{ ipBlock: { cidr: fillerPeer(i) } }], [CRR_PORT]));
  return out;
}

/** The probe policy: `client` may reach `server` on the probed ports. */
export const probePolicy = (server: string, client: string): NetworkPolicy =>
  ingressOnly(PROBE_POLICY, server, [{ podSelector: selecting(client) }], [CRR_PORT, IPERF_PORT]);

/** The realization policy: `client2` may reach `server`'s crr port. */
export const realizePolicy = (server: string, client2: string): NetworkPolicy =>
  ingressOnly(REALIZE_POLICY, server, [{ podSelector: selecting(client2) }], [CRR_PORT]);

/** Every policy the lab holds at `n` rules (fillers, then the probe); none at 0. */
export function policiesAt(n: number, server: string, client: string): NetworkPolicy[] {
  return n === 0 ? [] : [...fillerPolicies(1, n, server), probePolicy(server, client)];
}

/** The keys of what the test may have created, for deleting them ("namespace/name"). */
export function createdKeys(fillers: number, probe: boolean, realize: boolean): string[] {
  return [
    ...Array.from({ length: fillers }, (_, i) => policyKey({ name: fillerName(i + 1), namespace: POD_NAMESPACE })),
    ...(probe ? [policyKey({ name: PROBE_POLICY, namespace: POD_NAMESPACE })] : []),
    ...(realize ? [policyKey({ name: REALIZE_POLICY, namespace: POD_NAMESPACE })] : []),
  ];
}

/** A lab whose pods or nodes use FILLER_CIDR would have its fillers match real peers: refused. */
export function checkFillerRange(lab: string, addresses: readonly string[], cidrs: readonly string[] = []): void {
  const range = parseCidr(FILLER_CIDR);
  const inside = addresses.find((a) => containsIPv4(range, parseCidr(`${a}/32`).ip));
  const over = cidrs.find((c) => overlaps(range, parseCidr(c)));
  if (inside ?? over)
    throw new CnilabError(
      'INVALID_INPUT',
      `lab ${lab}: ${inside ?? over} is in ${FILLER_CIDR}, the policy-scale test's filler peers; ` +
        `pick addresses outside it`,
    );
}
