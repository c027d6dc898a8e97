/**
 * Kuryr: Neutron (here, cnilab's port controller) owns the networks, subnets and ports; a node
 * daemon plugs each pod as its port says, through a mechanism driver. One architecture per driver
 * and segmentation type, as the paper compares them: the OVS overlay against flannel, native VLAN
 * against the overlays. Their lab's networks and router: layout.ts.
 */
import type { Architecture } from '../arch/architecture';
import { kuryrControlPlane, type KuryrSpec } from './control-plane';

function kuryr(spec: KuryrSpec, summary: string): Architecture {
  return {
    name: `kuryr-${spec.driver === 'openvswitch' ? 'ovs' : 'lb'}-${spec.segmentation}`,
    family: spec.segmentation === 'vxlan' ? 'overlay' : 'native',
    summary,
    // OVS brings its own VLAN tagging and (userspace) tunnels; the Linux bridge needs the kernel's.
    requires: [
      'veth',
      ...(spec.driver === 'linuxbridge'
        ? (['bridge', spec.segmentation] as const)
        : (['openvswitch-switch', 'ethtool'] as const)),
    ],
    control: kuryrControlPlane(spec),
  };
}

export const kuryrOvsVxlanArch = kuryr(
  { driver: 'openvswitch', segmentation: 'vxlan' },
  "Kuryr on Open vSwitch, VXLAN: pods on br-int, a tunnel port per peer node with key = the network's VNI (pod " +
    'MTU = underlay − 50)',
);
export const kuryrOvsVlanArch = kuryr(
  { driver: 'openvswitch', segmentation: 'vlan' },
  "Kuryr on Open vSwitch, native VLAN: pods on br-int as access ports tagged with the network's VLAN ID, the " +
    'uplink a trunk (full MTU)',
);
export const kuryrLbVxlanArch = kuryr(
  { driver: 'linuxbridge', segmentation: 'vxlan' },
  'Kuryr on Linux bridges, VXLAN: a bridge per network with ' +
    'a kernel VXLAN device, key = VNI (pod MTU = underlay − 50)',
);
export const kuryrLbVlanArch = kuryr(
  { driver: 'linuxbridge', segmentation: 'vlan' },
  'Kuryr on Linux bridges, native VLAN: a bridge per network with an 802.1Q sub-interface of the uplink (full MTU)',
);
