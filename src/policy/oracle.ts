/**
 * The oracle: what Kubernetes' NetworkPolicy semantics say about one connection, read straight
 * from the policies — a pure function, written apart from resolve.ts (which compiles policies for
 * the data paths), so that the probe matrix compares what the kernel did with an independent
 * answer (cyclonus's idea). The rules it encodes (kubernetes.io/docs/concepts/services-networking/
 * network-policies):
 *   - a pod is isolated for ingress (egress) when some policy of its namespace selects it and has
 *     Ingress (Egress) among its policyTypes; a pod not isolated in a direction allows everything;
 *   - an isolated pod allows what the union of those policies' rules allows, nothing else;
 *   - a connection needs both: the client's egress and the server's ingress (replies then pass);
 *   - a rule without peers matches every peer; without ports, every protocol and port;
 *   - a peer with podSelector only: pods of the policy's namespace; namespaceSelector only: every
 *     pod of the namespaces it selects; both: the pods it selects in those namespaces;
 *   - an ipBlock matches by address, pod or not (Calico's reading; Cilium's CIDR rules skip
 *     pods) — except those in an `except` block.
 */
import { containsIPv4, parseCidr, parseIPv4 } from '../lib/ip';
import type { Labels } from '../apiserver/model';
import {
  NAMESPACE_NAME_LABEL,
  POD_NAMESPACE,
  type NetworkPolicy,
  type PolicyPeer,
  type PolicyProtocol,
  type PolicyRule,
} from './model';
import { selectorMatches } from './selector';

/** One end of a connection: a pod (with its labels and namespace) or only an address. */
export interface OracleEnd {
  readonly ip: string;
  readonly pod?: { readonly labels: Labels; readonly namespace?: string };
}

export interface OracleQuery {
  readonly from: OracleEnd;
  readonly to: OracleEnd;
  readonly protocol: PolicyProtocol;
  readonly port: number;
}

const nsOf = (e: OracleEnd): string => e.pod?.namespace ?? POD_NAMESPACE;

function peerMatches(policy: NetworkPolicy, peer: PolicyPeer, remote: OracleEnd): boolean {
  if (peer.ipBlock) {
    const ip = parseIPv4(remote.ip);
    if (!containsIPv4(parseCidr(peer.ipBlock.cidr), ip)) return false;
    return !(peer.ipBlock.except ?? []).some((e) => containsIPv4(parseCidr(e), ip));
  }
  if (!remote.pod) return false;
  const ns = nsOf(remote);
  const nsOk = peer.namespaceSelector
    ? selectorMatches(peer.namespaceSelector, { [NAMESPACE_NAME_LABEL]: ns })
    : ns === policy.namespace;
  return nsOk && (peer.podSelector === undefined || selectorMatches(peer.podSelector, remote.pod.labels));
}

function ruleMatches(policy: NetworkPolicy, rule: PolicyRule, remote: OracleEnd, q: OracleQuery): boolean {
  const peerOk = !rule.peers?.length || rule.peers.some((p) => peerMatches(policy, p, remote));
  const portOk =
    !rule.ports?.length ||
    rule.ports.some(
      (p) =>
        p.protocol === q.protocol && (p.port === undefined || (q.port >= p.port && q.port <= (p.endPort ?? p.port))),
    );
  return peerOk && portOk;
}

/** Whether `end`'s direction allows the connection: not isolated, or some selecting policy's rule allows it. */
function directionAllows(
  policies: readonly NetworkPolicy[],
  end: OracleEnd,
  remote: OracleEnd,
  type: 'Ingress' | 'Egress',
  q: OracleQuery,
): boolean {
  if (!end.pod) return true;
  const selecting = policies.filter(
    (p) => p.namespace === nsOf(end) && p.policyTypes.includes(type) && selectorMatches(p.podSelector, end.pod!.labels),
  );
  if (selecting.length === 0) return true;
  return selecting.some((p) => (type === 'Ingress' ? p.ingress : p.egress).some((r) => ruleMatches(p, r, remote, q)));
}

/** Whether the policies allow a new connection from `q.from` to `q.to` at `q.protocol`/`q.port`. */
export function expectAllowed(policies: readonly NetworkPolicy[], q: OracleQuery): boolean {
  return directionAllows(policies, q.from, q.to, 'Egress', q) && directionAllows(policies, q.to, q.from, 'Ingress', q);
}
