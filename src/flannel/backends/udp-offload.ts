/**
 * udp-offload: flannel's udp backend rebuilt as a modern user-space tunnel (udp-offload-proxy.ts):
 * the same leases, the same TUN name and MTU, the same IP-in-UDP datagrams on port 8285 — so a node
 * running the faithful `udp` backend interoperates — but the agent moves up to 64 KB per crossing
 * of the user/kernel boundary instead of one packet.
 *
 *   pod ── cni0 ── flannel0 (TUN, vnet hdr, TSO) ⇄ agent: read → segment → sendmsg(UDP_SEGMENT)
 *                                                 ⇄ recvmmsg(UDP_GRO) → coalesce → writev ── eth0
 */
import { CnilabError } from '../../lib/errors';
import { openTun, TUN_F_CSUM, TUN_F_TSO4, TUN_F_TSO6 } from './tun';
import type { Backend } from './backend';
import { enableForwarding } from '../../node/routes';
import { tunNetwork, UDP_DEV, UDP_PORT } from './udp';
import { startOffloadProxy, TECHNIQUES, type Offloads, type Technique } from './udp-offload-proxy';

/** The techniques left on when `disable` names some of them off; an unknown name is an error. */
export function offloadsWithout(disable: readonly string[] = []): Offloads {
  const off = new Set<string>();
  for (const name of disable) {
    if (!(TECHNIQUES as readonly string[]).includes(name))
      throw new CnilabError(
        'INVALID_INPUT',
        `backend.disable: unknown technique ${JSON.stringify(name)}; known: ${TECHNIQUES.join(', ')}`,
      );
    off.add(name);
  }
  return Object.fromEntries(TECHNIQUES.map((t) => [t, !off.has(t)])) as Record<Technique, boolean>;
}

export const udpOffloadBackend: Backend = async (ctx) => {
  const offloads = offloadsWithout(ctx.networkConfig.backend.disable);
  enableForwarding();
  const fd = openTun(UDP_DEV, { vnetHdr: true, offloads: offloads.tso ? TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 : 0 });
  // (Not gso_max_segs on flannel0 to fit each super-packet into one 65,507-byte sendmsg: the pods'
  // super-packets are forwarded to it, and larger ones would be cut in software before the TUN.)
  return tunNetwork(ctx, startOffloadProxy(fd, ctx.publicIp, UDP_PORT, ctx.networkConfig.subnetLength, offloads));
};
