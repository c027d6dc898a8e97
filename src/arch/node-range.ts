import { addressAt, cidrSize, formatIPv4, parseCidr } from '../lib/ip';
import type { ConflistContext } from '../flannel/control-plane';

/**
 * host-local IPAM for pods on the underlay (`macvlan`, `ipvlan`): addresses on `subnet`, handed out
 * only from the node's leased subnet (its .2 up to the last but one; .1 is the gateway), so no two
 * nodes collide.
 */
export function nodeRangeIpam(ctx: ConflistContext, subnet: string): Record<string, unknown> {
  const node = parseCidr(ctx.subnetEnv.subnet);
  return {
    type: 'host-local',
    ranges: [
      [
        {
          subnet,
          rangeStart: formatIPv4(addressAt(node, 2)),
          rangeEnd: formatIPv4(addressAt(node, cidrSize(node) - 2)),
          gateway: formatIPv4(addressAt(node, 1)),
        },
      ],
    ],
    dataDir: ctx.ipamDir,
  };
}
