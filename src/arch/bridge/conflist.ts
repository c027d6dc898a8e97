import { formatCidr, parseCidr } from '../../lib/ip';
import { NETWORK_NAME, NODE_BRIDGE } from '../architecture';
import type { ConflistContext } from '../../flannel/control-plane';
import type { NetConfList } from '../../cni/types';

/** Pods behind the node's bridge, addressed from the node's leased subnet, gateway on the bridge. */
export function bridgeConflist(ctx: ConflistContext): NetConfList {
  const subnet = formatCidr(parseCidr(ctx.subnetEnv.subnet));
  return {
    cniVersion: '1.0.0',
    name: NETWORK_NAME,
    plugins: [
      {
        type: 'bridge',
        bridge: NODE_BRIDGE,
        isGateway: true,
        isDefaultGateway: true,
        mtu: ctx.subnetEnv.mtu,
        ipam: { type: 'host-local', ranges: [[{ subnet }]], dataDir: ctx.ipamDir },
      },
    ],
  };
}
