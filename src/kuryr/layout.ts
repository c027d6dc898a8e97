/**
 * A Kuryr lab's layout: network `net-a` on every compute node but the last, which is on `net-b`; a
 * router on the second compute node joins them — the paper's "A to C via B". And the configuration
 * list its pods are attached with.
 */
import { formatCidr, parseCidr, subnetAt } from '../lib/ip';
import type { NetConfList } from '../cni/types';
import type { Topology } from '../topology/schema';
import { NETWORK_NAME } from '../arch/architecture';

export interface KuryrNetworkPlan {
  readonly name: string;
  readonly cidr: string;
}

export interface KuryrLayout {
  readonly networks: readonly KuryrNetworkPlan[];
  /** node → network name. */
  readonly networkOf: ReadonlyMap<string, string>;
  /** The router's node, when there are two networks. */
  readonly routerHost?: string;
}

/** Networks, which node's pods join which, and where the router runs (pure). */
export function kuryrLayout(topology: Topology): KuryrLayout {
  const compute = topology.nodes.filter((n) => n.role === 'compute').map((n) => n.name);
  const pod = parseCidr(topology.podCidr);
  const cidr = (i: number): string => formatCidr(subnetAt(pod, topology.subnetLength, i));
  const a: KuryrNetworkPlan = { name: 'net-a', cidr: cidr(1) };
  if (compute.length < 3) return { networks: [a], networkOf: new Map(compute.map((n) => [n, a.name])) };
  const b: KuryrNetworkPlan = { name: 'net-b', cidr: cidr(2) };
  const last = compute[compute.length - 1]!;
  return {
    networks: [a, b],
    networkOf: new Map(compute.map((n) => [n, n === last ? b.name : a.name])),
    routerHost: compute[1]!,
  };
}

/** The configuration list of a node's pods: kuryr-cni, talking to the node's daemon. */
export function kuryrConflist(daemonSocket: string, network: string): NetConfList {
  return { cniVersion: '1.0.0', name: NETWORK_NAME, plugins: [{ type: 'kuryr-cni', daemonSocket, network }] };
}
