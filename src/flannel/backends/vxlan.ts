/**
 * vxlan, the way flannel does it: one kernel VXLAN device per family, `flannel.1` over the IPv4
 * underlay and, with IPv6 on, `flannel-v6.1` over the IPv6 underlay (both VNI 1, UDP 8472, no
 * learning; MTU = underlay − 50, or − 70 for the IPv6 outer header). Each device holds the node
 * subnet's network address of its family (/32, /128). Per peer and family, three static entries
 * replace learning and multicast:
 *   route   PEER_SUBNET via PEER_SUBNET_NETWORK_ADDRESS dev DEVICE onlink
 *   neigh   PEER_SUBNET_NETWORK_ADDRESS lladdr PEER_VTEP_MAC (permanent)
 *   fdb     PEER_VTEP_MAC dst PEER_UNDERLAY_IP (permanent)
 * `sync` compares with what the kernel holds, so it is idempotent and a restarted agent changes
 * nothing that is already right. With DirectRouting, peers on this node's own IPv4 underlay segment
 * get a plain route via their underlay address instead (no encapsulation), as flannel does. Pods
 * get the smaller MTU of the families on (flannel gives IPv4's; one MTU that fits both needs no PMTU
 * discovery for IPv6).
 *
 *   pod ── cni0 ── flannel.1 ─[VXLAN/UDP 8472]─ eth0 ══ switch ══ eth0 ─ flannel.1 ── cni0 ── pod
 */
import { ip, ipJson } from '../../lib/netns';
import { containsIPv4, formatAddr, formatIPv4, parseCidr, parseIPv4, parsePrefix } from '../../lib/ip';
import type { Backend, BackendContext } from './backend';
import { hasIPv4, hasIPv6, type Lease } from '../subnet/model';
import { VXLAN6_OVERHEAD, VXLAN_OVERHEAD } from '../../lib/vxlan';
import { enableForwarding, readRoutes, routeChanges, syncVxlanPeers } from '../../node/routes';
import { CnilabError } from '../../lib/errors';

export const VXLAN_DEV = 'flannel.1';
/** The IPv6 VTEP, flannel's name for it. */
export const VXLAN6_DEV = 'flannel-v6.1';
export const VXLAN_VNI = 1;
/** flannel's VXLAN UDP port (the Linux kernel's old default), not IANA's 4789. */
export const FLANNEL_VXLAN_PORT = 8472;

const networkAddress = (subnet: string): string => formatIPv4(parseCidr(subnet).base);
const networkAddress6 = (subnet: string): string => formatAddr({ family: 6, value: parsePrefix(subnet)!.base });

/** Makes (or keeps) the VTEP `dev` on `local`, with `mtu`, up; returns its MAC. */
async function vtep(ctx: BackendContext, dev: string, local: string, mtu: number): Promise<string> {
  const existing = await ipJson<{ address: string }[]>(undefined, ['link', 'show', 'dev', dev]).catch(() => []);
  if (existing.length === 0) {
    await ip(undefined, [
      'link',
      'add',
      dev,
      'type',
      'vxlan',
      'id',
      String(VXLAN_VNI),
      'local',
      local,
      'dev',
      ctx.iface,
      'dstport',
      String(FLANNEL_VXLAN_PORT),
      'nolearning',
    ]);
  }
  await ip(undefined, ['link', 'set', 'dev', dev, 'mtu', String(mtu), 'up']);
  const [link] = await ipJson<{ address: string }[]>(undefined, ['link', 'show', 'dev', dev]);
  return link!.address;
}

export const vxlanBackend: Backend = async (ctx) => {
  const v4 = hasIPv4(ctx.networkConfig);
  const v6 = hasIPv6(ctx.networkConfig);
  enableForwarding(v6);
  if (v6 && !ctx.publicIpv6)
    throw new CnilabError('AGENT_FAILED', `underlay interface ${ctx.iface} has no IPv6 address for ${VXLAN6_DEV}`);
  const directRouting = ctx.networkConfig.backend.directRouting === true;
  const underlay = parseCidr(ctx.underlayCidr);
  const mtu4 = ctx.underlayMtu - VXLAN_OVERHEAD;
  const mtu6 = ctx.underlayMtu - VXLAN6_OVERHEAD;
  const mac4 = v4 ? await vtep(ctx, VXLAN_DEV, ctx.publicIp, mtu4) : undefined;
  const mac6 = v6 ? await vtep(ctx, VXLAN6_DEV, ctx.publicIpv6!, mtu6) : undefined;
  return {
    mtu: v6 ? mtu6 : mtu4,
    backendData: { ...(mac4 ? { vtepMac: mac4 } : {}), ...(mac6 ? { vtepMacV6: mac6 } : {}) },
    configure: async (own) => {
      if (v4 && own.subnet)
        await ip(undefined, ['addr', 'replace', `${networkAddress(own.subnet)}/32`, 'dev', VXLAN_DEV]);
      if (v6 && own.ipv6Subnet)
        await ip(undefined, ['addr', 'replace', `${networkAddress6(own.ipv6Subnet)}/128`, 'dev', VXLAN6_DEV, 'nodad']);
    },
    sync: async (peers) => {
      if (v4) await sync4(ctx, peers, directRouting, underlay);
      if (v6) await sync6(peers);
    },
  };
};

async function sync4(
  ctx: BackendContext,
  peers: readonly Lease[],
  directRouting: boolean,
  underlay: ReturnType<typeof parseCidr>,
): Promise<void> {
  // DirectRouting: a peer on our own underlay segment is reached by a plain route, as host-gw does.
  const isDirect = (p: Lease): boolean => directRouting && containsIPv4(underlay, parseIPv4(p.publicIp));
  const vteps = peers.filter(
    (p): p is Lease & { subnet: string; backendData: { vtepMac: string } } =>
      p.subnet !== undefined && typeof p.backendData.vtepMac === 'string' && !isDirect(p),
  );
  const direct = routeChanges(
    ctx.iface,
    await readRoutes(ctx.iface),
    peers.flatMap((p) => (isDirect(p) && p.subnet ? [{ dst: p.subnet, via: p.publicIp }] : [])),
  );
  await syncVxlanPeers(
    VXLAN_DEV,
    {
      routes: vteps.map((p) => ({ dst: p.subnet, via: networkAddress(p.subnet), onlink: true })),
      neighbours: new Map(vteps.map((p) => [networkAddress(p.subnet), p.backendData.vtepMac])),
      fdb: new Map(vteps.map((p) => [p.backendData.vtepMac, p.publicIp])),
    },
    direct,
  );
}

/** The same per-peer entries on flannel-v6.1, over the peers' IPv6 underlay addresses. */
async function sync6(peers: readonly Lease[]): Promise<void> {
  const vteps = peers.filter(
    (p): p is Lease & { ipv6Subnet: string; publicIpv6: string; backendData: { vtepMacV6: string } } =>
      p.ipv6Subnet !== undefined && p.publicIpv6 !== undefined && typeof p.backendData.vtepMacV6 === 'string',
  );
  await syncVxlanPeers(
    VXLAN6_DEV,
    {
      routes: vteps.map((p) => ({ dst: p.ipv6Subnet, via: networkAddress6(p.ipv6Subnet), onlink: true })),
      neighbours: new Map(vteps.map((p) => [networkAddress6(p.ipv6Subnet), p.backendData.vtepMacV6])),
      fdb: new Map(vteps.map((p) => [p.backendData.vtepMacV6, p.publicIpv6])),
    },
    undefined,
    6,
  );
}
