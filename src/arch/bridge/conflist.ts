import { NETWORK_NAME, NODE_BRIDGE } from '../architecture';
import type { ConflistContext } from '../../flannel/control-plane';
import type { NetConfList } from '../../cni/types';
import { familyOf, networkOf } from '../../cni/plugins/flannel/subnet-env';

/** Pods behind the node's bridge, addressed from the node's leased subnets (each family's, in the topology's order), gateway on the bridge. */
export function bridgeConflist(ctx: ConflistContext): NetConfList {
  const ranges = ctx.ipFamilies.flatMap((f) => {
    const fam = familyOf(ctx.subnetEnv, f);
    return fam ? [[{ subnet: networkOf(fam.subnet) }]] : [];
  });
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
        ...(ctx.ipv6Dad ? { enabledad: true } : {}),
        ipam: { type: 'host-local', ranges, dataDir: ctx.ipamDir },
      },
    ],
  };
}
