import type { Architecture } from '../architecture';
import { bridgeConflist } from './conflist';
import { flannelControlPlane } from '../../flannel/control-plane';

/**
 * Pods behind one node's Linux bridge; no route between nodes' pod subnets. Its nodes take their
 * pod subnets from flannel's lease store (backend `none`: leases only, no routes).
 */
export const bridgeArch: Architecture = {
  name: 'bridge',
  summary: "pods behind their node's Linux bridge (cni0); nodes do not route pod subnets",
  family: 'native',
  requires: ['veth', 'bridge'],
  // Both families: the leases carry an IPv6 subnet, the list a range of each (docs/ipv6.md).
  control: { ...flannelControlPlane({ type: 'none' }, bridgeConflist), ipFamilies: [4, 6] },
  unsupported: { 'inter-node': 'bridge alone does not route between nodes (flannel-host-gw and flannel-vxlan do)' },
};
