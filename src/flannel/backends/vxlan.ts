/**
 * vxlan, the way flannel does it: one kernel VXLAN device `flannel.1` (VNI 1, UDP 8472, no
 * learning), MTU = underlay − 50. The device holds the node subnet's network address /32. Per peer,
 * three static entries replace learning and multicast:
 *   route   PEER_SUBNET via PEER_SUBNET.0 dev flannel.1 onlink
 *   neigh   PEER_SUBNET.0 lladdr PEER_VTEP_MAC (permanent)
 *   fdb     PEER_VTEP_MAC dst PEER_UNDERLAY_IP (permanent)
 * `sync` compares with what the kernel holds, so it is idempotent and a restarted agent changes
 * nothing that is already right. With DirectRouting, peers on this node's own underlay segment get
 * a plain route via their underlay address instead (no encapsulation), as flannel does.
 *
 *   pod ── cni0 ── flannel.1 ─[VXLAN/UDP 8472]─ eth0 ══ switch ══ eth0 ─ flannel.1 ── cni0 ── pod
 */
import { ip, ipJson } from '../../lib/netns';
import { containsIPv4, formatIPv4, parseCidr, parseIPv4 } from '../../lib/ip';
import type { Backend } from './backend';
import type { Lease } from '../subnet/model';
import { VXLAN_OVERHEAD } from '../../lib/vxlan';
import { enableForwarding, readRoutes, routeChanges, syncVxlanPeers } from '../../node/routes';

export const VXLAN_DEV = 'flannel.1';
export const VXLAN_VNI = 1;
/** flannel's VXLAN UDP port (the Linux kernel's old default), not IANA's 4789. */
export const FLANNEL_VXLAN_PORT = 8472;

const networkAddress = (subnet: string): string => formatIPv4(parseCidr(subnet).base);

export const vxlanBackend: Backend = async (ctx) => {
  enableForwarding();
  const directRouting = ctx.networkConfig.backend.directRouting === true;
  const underlay = parseCidr(ctx.underlayCidr);
  const mtu = ctx.underlayMtu - VXLAN_OVERHEAD;
  const existing = await ipJson<{ address: string }[]>(undefined, ['link', 'show', 'dev', VXLAN_DEV]).catch(() => []);
  if (existing.length === 0) {
    await ip(undefined, [
      'link',
      'add',
      VXLAN_DEV,
      'type',
      'vxlan',
      'id',
      String(VXLAN_VNI),
      'local',
      ctx.publicIp,
      'dev',
      ctx.iface,
      'dstport',
      String(FLANNEL_VXLAN_PORT),
      'nolearning',
    ]);
  }
  await ip(undefined, ['link', 'set', 'dev', VXLAN_DEV, 'mtu', String(mtu), 'up']);
  const [link] = await ipJson<{ address: string }[]>(undefined, ['link', 'show', 'dev', VXLAN_DEV]);
  return {
    mtu,
    backendData: { vtepMac: link!.address },
    configure: async (own) => {
      await ip(undefined, ['addr', 'replace', `${networkAddress(own.subnet)}/32`, 'dev', VXLAN_DEV]);
    },
    sync: async (peers) => {
      // DirectRouting: a peer on our own underlay segment is reached by a plain route, as host-gw does.
      const isDirect = (p: Lease): boolean => directRouting && containsIPv4(underlay, parseIPv4(p.publicIp));
      const vteps = peers.filter(
        (p): p is Lease & { backendData: { vtepMac: string } } =>
          typeof p.backendData.vtepMac === 'string' && !isDirect(p),
      );
      const direct = routeChanges(
        ctx.iface,
        await readRoutes(ctx.iface),
        peers.filter(isDirect).map((p) => ({ dst: p.subnet, via: p.publicIp })),
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
    },
  };
};
