/**
 * host-gw: no encapsulation. Each peer's pod subnet is routed via the peer's underlay address,
 * which must be on the same L2 segment.
 *
 *   pod ── cni0 ── node eth0 ══(route: peer subnet via peer underlay)══ switch ══ peer eth0 ── cni0 ── pod
 */
import type { Backend } from '../backend';
import { enableForwarding, syncRoutes } from './routes';

export const hostGwBackend: Backend = async (ctx) => {
  enableForwarding();
  return {
    mtu: ctx.underlayMtu,
    backendData: {},
    configure: async () => undefined,
    sync: (peers) => syncRoutes(ctx.iface, new Map(peers.map((p) => [p.subnet, ['via', p.publicIp]]))),
  };
};
