import { NETWORK_NAME, type Architecture } from '../architecture';
import { flannelControlPlane } from '../../flannel/control-plane';
import { nodeRangeIpam } from '../node-range';

/**
 * Pods directly on the underlay segment: a macvlan (bridge mode) of the node's eth0 each. All pods
 * share the pod network as one flat L2 subnet; each node hands out addresses from its own leased
 * part of it (flannel's lease store, backend `none`), so no two nodes collide.
 */
export const macvlanArch: Architecture = {
  name: 'macvlan',
  summary: "pods on the underlay segment as macvlan (bridge mode) of the node's eth0; no bridge, no routing hop",
  family: 'native',
  requires: ['macvlan'],
  // Both families: a range of each, handed out from the node's leased subnets (docs/ipv6.md).
  control: {
    ...flannelControlPlane({ type: 'none' }, (ctx) => ({
      cniVersion: '1.0.0',
      name: NETWORK_NAME,
      plugins: [
        {
          type: 'macvlan',
          master: ctx.underlayIf,
          mode: 'bridge',
          mtu: ctx.subnetEnv.mtu,
          ipam: nodeRangeIpam(ctx),
        },
      ],
    })),
    ipFamilies: [4, 6],
  },
};
