import type { Architecture } from '../architecture';
import { bridgeConflist } from '../bridge/conflist';

/** Bridge plus a route per peer node's pod subnet via its underlay address (flannel host-gw). */
export const hostGwArch: Architecture = {
  name: 'host-gw',
  summary: 'bridge + routes to each peer node\'s pod subnet via its underlay address',
  requires: ['veth', 'bridge'],
  backend: 'host-gw',
  conflist: bridgeConflist,
};
