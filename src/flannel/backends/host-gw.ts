/**
 * host-gw: no encapsulation. Each peer's pod subnet is routed via the peer's underlay address,
 * which must be on the same L2 segment: its IPv4 subnet via its IPv4 address, its IPv6 subnet via
 * its IPv6 address (flannel's dual-stack host-gw), each family's routes kept apart.
 *
 *   pod ── cni0 ── node eth0 ══(route: peer subnet via peer underlay)══ switch ══ peer eth0 ── cni0 ── pod
 */
import { ipBatch } from '../../lib/netns';
import type { Backend } from './backend';
import { hasIPv6 } from '../subnet/model';
import { enableForwarding, readRoutes, routeChanges, type WantedRoute } from '../../node/routes';

export const hostGwBackend: Backend = async (ctx) => {
  enableForwarding(hasIPv6(ctx.networkConfig));
  return {
    mtu: ctx.underlayMtu,
    backendData: {},
    configure: async () => undefined,
    sync: async (peers) => {
      const v4: WantedRoute[] = peers.flatMap((p) => (p.subnet ? [{ dst: p.subnet, via: p.publicIp }] : []));
      const v6: WantedRoute[] = peers.flatMap((p) =>
        p.ipv6Subnet && p.publicIpv6 ? [{ dst: p.ipv6Subnet, via: p.publicIpv6 }] : [],
      );
      const [c4, c6] = [
        routeChanges(ctx.iface, await readRoutes(ctx.iface, 4), v4),
        routeChanges(ctx.iface, await readRoutes(ctx.iface, 6), v6),
      ];
      await ipBatch(undefined, [...c4.del, ...c6.del], { force: true });
      await ipBatch(undefined, [...c4.add, ...c6.add]);
    },
  };
};
