import { addressAt, cidrSize, formatAddr, formatIPv4, lastOf, parseCidr, parsePrefix } from '../lib/ip';
import type { ConflistContext } from '../flannel/control-plane';
import { familyOf } from '../cni/plugins/flannel/subnet-env';

/** One host-local range of `subnet`, handed out only from `node` (its second address to the last but one; first is the gateway). */
function nodeRange(subnet: string, node: string): Record<string, string> {
  if (!node.includes(':')) {
    const n = parseCidr(node);
    return {
      subnet,
      rangeStart: formatIPv4(addressAt(n, 2)),
      rangeEnd: formatIPv4(addressAt(n, cidrSize(n) - 2)),
      gateway: formatIPv4(addressAt(n, 1)),
    };
  }
  const n = parsePrefix(node)!;
  const at = (value: bigint): string => formatAddr({ family: 6, value });
  return { subnet, rangeStart: at(n.base + 2n), rangeEnd: at(lastOf(n) - 1n), gateway: at(n.base + 1n) };
}

/**
 * host-local IPAM for pods on the underlay (`macvlan`, `ipvlan`): per family of the topology, in its
 * order, addresses on that family's `subnet` (default: the whole pod network: one flat L2 segment),
 * handed out only from the node's leased subnet, so no two nodes collide.
 */
export function nodeRangeIpam(
  ctx: ConflistContext,
  subnet: (family: 4 | 6, network: string, node: string) => string = (_f, network) => network,
): Record<string, unknown> {
  return {
    type: 'host-local',
    ranges: ctx.ipFamilies.flatMap((f) => {
      const fam = familyOf(ctx.subnetEnv, f);
      return fam ? [[nodeRange(subnet(f, fam.network, fam.subnet), fam.subnet)]] : [];
    }),
    dataDir: ctx.ipamDir,
  };
}
