/**
 * host-gw: no encapsulation. Each peer's pod subnet is routed via the peer's underlay address,
 * which must be on the same L2 segment.
 *
 *   pod ── cni0 ── node eth0 ══(route: peer subnet via peer underlay)══ switch ══ peer eth0 ── cni0 ── pod
 */
import { ipBatch } from '../../lib/netns';
import type { Backend } from './backend';
import { enableForwarding, readRoutes, routeChanges } from '../../node/routes';

export const hostGwBackend: Backend = async (ctx) => {
  enableForwarding();
  return {
    mtu: ctx.underlayMtu,
    backendData: {},
    configure: async () => undefined,
    sync: async (peers) => {
      const changes = routeChanges(
        ctx.iface,
        await readRoutes(ctx.iface),
        peers.map((p) => ({ dst: p.subnet, via: p.publicIp })),
      );
      await ipBatch(undefined, changes.del, { force: true });
      await ipBatch(undefined, changes.add);
    },
  };
};
