/**
 * Kuryr: Neutron (here, cnilab's port controller) owns the networks, subnets and ports; a node
 * daemon plugs each pod as its port says, through a mechanism driver. One architecture per driver
 * and segmentation type, as the paper compares them: the OVS overlay against flannel, native VLAN
 * against the overlays.
 *
 * The lab's layout (see `kuryrLayout`): network `net-a` on every compute node but the last, which
 * is on `net-b`; a router on the second compute node joins them — the paper's "A to C via B".
 */
import { subnetAt, formatCidr, parseCidr } from '../lib/ip';
import type { NetConfList } from '../cni/types';
import type { Topology } from '../topology/schema';
import { NETWORK_NAME, type Architecture } from '../arch/architecture';
import { kuryrControlPlane, type KuryrSpec } from './control-plane';

function kuryr(spec: KuryrSpec, summary: string): Architecture {
  return {
    name: `kuryr-${spec.driver === 'openvswitch' ? 'ovs' : 'lb'}-${spec.segmentation}`,
    family: spec.segmentation === 'vxlan' ? 'overlay' : 'native',
    summary,
    // OVS brings its own VLAN tagging and (userspace) tunnels; the Linux bridge needs the kernel's.
    requires: ['veth', ...(spec.driver === 'linuxbridge' ? (['bridge', spec.segmentation] as const) : (['openvswitch-switch', 'ethtool'] as const))],
    control: kuryrControlPlane(spec),
  };
}

export const kuryrOvsVxlanArch = kuryr({ driver: 'openvswitch', segmentation: 'vxlan' }, 'Kuryr on Open vSwitch, VXLAN: pods on br-int, a tunnel port per peer node with key = the network\'s VNI (pod MTU = underlay − 50)');
export const kuryrOvsVlanArch = kuryr({ driver: 'openvswitch', segmentation: 'vlan' }, 'Kuryr on Open vSwitch, native VLAN: pods on br-int as access ports tagged with the network\'s VLAN ID, the uplink a trunk (full MTU)');
export const kuryrLbVxlanArch = kuryr({ driver: 'linuxbridge', segmentation: 'vxlan' }, 'Kuryr on Linux bridges, VXLAN: a bridge per network with a kernel VXLAN device, key = VNI (pod MTU = underlay − 50)');
export const kuryrLbVlanArch = kuryr({ driver: 'linuxbridge', segmentation: 'vlan' }, 'Kuryr on Linux bridges, native VLAN: a bridge per network with an 802.1Q sub-interface of the uplink (full MTU)');

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
  return { networks: [a, b], networkOf: new Map(compute.map((n) => [n, n === last ? b.name : a.name])), routerHost: compute[1]! };
}

/** The configuration list of a node's pods: kuryr-cni, talking to the node's daemon. */
export function kuryrConflist(daemonSocket: string, network: string): NetConfList {
  return { cniVersion: '1.0.0', name: NETWORK_NAME, plugins: [{ type: 'kuryr-cni', daemonSocket, network }] };
}
