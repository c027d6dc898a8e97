/**
 * Policies compiled for one node (PolicyInput, model.ts): the policies selecting any of its pods,
 * each rule's selector peers resolved to the pods they pick, ports to ranges, and which policies
 * isolate each of its pods in each direction. Only the directions of a policy's policyTypes are
 * kept (an ingress section of an Egress-only policy has no effect, as in Kubernetes).
 */
import type { Pod } from '../apiserver/model';
import {
  NAMESPACE_NAME_LABEL,
  POD_NAMESPACE,
  policyKey,
  type NetworkPolicy,
  type PolicyEndpoint,
  type PolicyInput,
  type PolicyPeer,
  type PolicyRule,
  type PortRange,
  type ResolvedPolicy,
  type ResolvedRule,
} from './model';
import { selectorMatches } from './selector';

const byName = <T extends { readonly name: string }>(a: T, b: T): number =>
  a.name < b.name ? -1 : a.name > b.name ? 1 : 0;

/** The pods a selector peer of `policy` picks (every lab pod lives in POD_NAMESPACE). */
function peerPods(policy: NetworkPolicy, peer: PolicyPeer, pods: readonly Pod[]): string[] {
  const nsOk = peer.namespaceSelector
    ? selectorMatches(peer.namespaceSelector, { [NAMESPACE_NAME_LABEL]: POD_NAMESPACE })
    : policy.namespace === POD_NAMESPACE;
  if (!nsOk) return [];
  return pods.filter((p) => !peer.podSelector || selectorMatches(peer.podSelector, p.labels)).map((p) => p.name);
}

function resolveRule(policy: NetworkPolicy, rule: PolicyRule, pods: readonly Pod[]): ResolvedRule {
  const peers: ResolvedRule['peers'] = !rule.peers?.length
    ? 'any'
    : {
        pods: [...new Set(rule.peers.filter((p) => !p.ipBlock).flatMap((p) => peerPods(policy, p, pods)))].sort(),
        blocks: rule.peers
          .filter((p) => p.ipBlock)
          .map((p) => ({ cidr: p.ipBlock!.cidr, except: [...(p.ipBlock!.except ?? [])] })),
      };
  const ports: ResolvedRule['ports'] = !rule.ports?.length
    ? 'any'
    : rule.ports.map((p): PortRange => ({
        protocol: p.protocol,
        from: p.port ?? 1,
        to: p.port === undefined ? 65535 : (p.endPort ?? p.port),
      }));
  return { peers, ports };
}

/** Whether `policy` selects `pod` (same namespace, its podSelector holds). */
export function policySelects(policy: NetworkPolicy, pod: Pod): boolean {
  return policy.namespace === POD_NAMESPACE && selectorMatches(policy.podSelector, pod.labels);
}

/** Node `node`'s PolicyInput at `revision`, from every policy and pod of the cluster. */
export function resolveFor(
  node: string,
  revision: number,
  policies: readonly NetworkPolicy[],
  allPods: readonly Pod[],
): PolicyInput {
  const pods = [...allPods].sort(byName);
  const local = pods.filter((p) => p.node === node);
  const picks = new Map<string, Pod[]>();
  for (const pol of policies) {
    const selected = local.filter((p) => policySelects(pol, p));
    if (selected.length) picks.set(policyKey(pol), selected);
  }
  const relevant = policies
    .filter((p) => picks.has(policyKey(p)))
    .sort((a, b) => (policyKey(a) < policyKey(b) ? -1 : 1));
  const resolved = relevant.map((pol): ResolvedPolicy => ({
    key: policyKey(pol),
    ...(pol.policyTypes.includes('Ingress') ? { ingress: pol.ingress.map((r) => resolveRule(pol, r, pods)) } : {}),
    ...(pol.policyTypes.includes('Egress') ? { egress: pol.egress.map((r) => resolveRule(pol, r, pods)) } : {}),
  }));
  const endpoints = local.map((p): PolicyEndpoint => {
    const by = (type: 'Ingress' | 'Egress'): string[] =>
      relevant.filter((pol) => pol.policyTypes.includes(type) && picks.get(policyKey(pol))!.includes(p)).map(policyKey);
    return { pod: p.name, ip: p.ip, ingress: by('Ingress'), egress: by('Egress') };
  });
  return {
    node,
    revision,
    pods: pods.map((p) => ({ name: p.name, ip: p.ip, node: p.node, labels: p.labels })),
    policies: resolved,
    endpoints,
  };
}
