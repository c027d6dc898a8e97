/**
 * wireguard, the way flannel's backend does it: a key pair per node, its public half published in
 * the node's lease (backendData.publicKey); one WireGuard device `flannel-wg` holding the lease's
 * network address /32 and a route to the whole flannel network; each peer node a WireGuard peer
 * with its underlay address as endpoint and its pod subnet as allowed IPs — WireGuard's own
 * routing by key. MTU = underlay − 80: WireGuard's worst case (outer IPv6 40 + UDP 8 + its own 32),
 * wg-quick's default.
 *
 * Where the kernel has no WireGuard, the device is wireguard-go's (node/wireguard.ts): the same
 * packets on the wire, moved in user space.
 *
 *   pod ── cni0 ── flannel-wg ─[WireGuard/UDP 51820]─ eth0 ══ switch ══ eth0 ─ flannel-wg ── cni0 ── pod
 */
import { join } from 'node:path';
import { formatIPv4, parseCidr } from '../../lib/ip';
import { ip } from '../../lib/netns';
import { enableForwarding } from '../../node/routes';
import { nodeKey, WG_PORT, WgDevice, type WgPeer } from '../../node/wireguard';
import { ipv4Subnet, type Lease } from '../subnet/model';
import type { Backend } from './backend';

export const WIREGUARD_DEV = 'flannel-wg';
/** Outer IPv6 header 40 + UDP 8 + WireGuard's header and tag 32. */
export const WIREGUARD_OVERHEAD = 80;

const networkAddress = (subnet: string): string => formatIPv4(parseCidr(subnet).base);

/** A peer's WireGuard peer: its published key, its underlay address, its pod subnet. */
export function wgPeerOf(lease: Lease, port = WG_PORT): WgPeer | undefined {
  const key = lease.backendData.publicKey;
  if (typeof key !== 'string') return undefined;
  return { publicKey: key, endpoint: `${lease.publicIp}:${port}`, allowedIps: [ipv4Subnet(lease)] };
}

export const wireguardBackend: Backend = async (ctx) => {
  enableForwarding();
  const dir = join(ctx.runDir, 'wireguard');
  const key = nodeKey(dir);
  const mtu = ctx.underlayMtu - WIREGUARD_OVERHEAD;
  const device = await WgDevice.ensure({ name: WIREGUARD_DEV, dir, key, port: WG_PORT, mtu });
  return {
    mtu,
    backendData: { publicKey: key.publicKey },
    configure: async (own) => {
      await ip(undefined, ['addr', 'replace', `${networkAddress(ipv4Subnet(own))}/32`, 'dev', WIREGUARD_DEV]);
      // The whole network into the device: the node's own subnet stays on cni0 (more specific).
      await ip(undefined, ['route', 'replace', ctx.networkConfig.network, 'dev', WIREGUARD_DEV]);
    },
    sync: async (peers) => {
      await device.syncPeers(peers.map((p) => wgPeerOf(p)).filter((p): p is WgPeer => p !== undefined));
    },
  };
};
