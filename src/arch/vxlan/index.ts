import type { Architecture } from '../architecture';
import { bridgeConflist } from '../bridge/conflist';

/** Bridge plus a kernel VXLAN overlay the way flannel builds it (VNI 1, UDP 8472, MTU − 50). */
export const vxlanArch: Architecture = {
  name: 'vxlan',
  summary: 'bridge + kernel VXLAN overlay as flannel builds it (VNI 1, UDP 8472, pod MTU = underlay − 50)',
  requires: ['veth', 'bridge', 'vxlan'],
  backend: 'vxlan',
  conflist: bridgeConflist,
};
