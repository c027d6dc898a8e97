import type { Architecture } from '../architecture';
import { bridgeConflist } from './conflist';

/** Pods behind one node's Linux bridge; no route between nodes' pod subnets. */
export const bridgeArch: Architecture = {
  name: 'bridge',
  summary: 'pods behind their node\'s Linux bridge (cni0); nodes do not route pod subnets',
  family: 'native',
  requires: ['veth', 'bridge'],
  backend: { type: 'none' },
  conflist: bridgeConflist,
  unsupported: { 'inter-node': 'bridge alone does not route between nodes (flannel-host-gw and flannel-vxlan do)' },
};
