/**
 * udp, flannel's user-space backend, faithfully: a TUN device `flannel0` holding the whole pod
 * network (MTU = underlay − 28), and this agent moving every packet across user space on UDP port
 * 8285 — one read() and one sendto() per packet outwards, one recv() and one write() inwards
 * (udp-proxy.ts). That is the design the paper measured, and flannel calls it "for debugging only".
 *
 *   pod ── cni0 ── flannel0 (TUN) ⇄ agent: read → sendto / recv → write ⇄ UDP 8285 ── eth0 ══ switch ══ peer
 */
import { formatIPv4, parseCidr } from '../../lib/ip';
import { ip } from '../../lib/netns';
import { openTun } from './tun';
import type { Backend, BackendContext, BackendNetwork } from './backend';
import { ipv4Subnet } from '../subnet/model';
import { enableForwarding } from '../../node/routes';
import { startProxy, type Proxy } from './udp-proxy';

export const UDP_DEV = 'flannel0';
export const UDP_PORT = 8285;
/** Outer IPv4 (20) + UDP (8): the TUN carries bare IP packets. */
export const UDP_OVERHEAD = 28;

export const udpBackend: Backend = async (ctx) => {
  enableForwarding();
  const fd = openTun(UDP_DEV);
  return tunNetwork(ctx, startProxy(fd, ctx.publicIp, UDP_PORT, ctx.networkConfig.subnetLength));
};

/**
 * What both TUN backends (udp, udp-offload) do once their proxy runs: flannel0 addressed and up, peers handed to the
 * proxy.
 */
export function tunNetwork(ctx: BackendContext, proxy: Proxy): BackendNetwork {
  const mtu = ctx.underlayMtu - UDP_OVERHEAD;
  const network = parseCidr(ctx.networkConfig.network);
  return {
    mtu,
    backendData: {},
    configure: async (own) => {
      // The whole pod network goes to flannel0; the node's own subnet is more specific (cni0).
      await ip(undefined, [
        'addr',
        'replace',
        `${formatIPv4(parseCidr(ipv4Subnet(own)).base)}/${network.prefix}`,
        'dev',
        UDP_DEV,
      ]);
      await ip(undefined, ['link', 'set', 'dev', UDP_DEV, 'mtu', String(mtu), 'up']);
    },
    sync: async (peers) => {
      proxy.setPeers(new Map(peers.map((l) => [parseCidr(ipv4Subnet(l)).base, l.publicIp])));
    },
    stats: () => ({ ...proxy.stats }),
    datapathDevice: UDP_DEV,
  };
}
