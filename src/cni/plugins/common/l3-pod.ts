/**
 * A pod wired for pure L3 forwarding, as Calico and Cilium wire theirs: a veth with no bridge, the
 * host end holding no address, the pod's addresses as /32s behind a link-local gateway, and a /32
 * route per address on the node pointing at the host end. The `calico` and `ebpf` plugins differ
 * only in how the pod learns its gateway's MAC (proxy ARP, or a permanent entry) and in what they
 * attach to the host end.
 *
 *   container eth0 10.244.1.5/32 ──veth── caliXXXXXXXX / lxcXXXXXXXX (no address)
 *   container: 169.254.1.1 dev eth0 scope link; default via 169.254.1.1
 *   node:      10.244.1.5 dev caliXXXXXXXX scope link
 *
 * IPv6, as Calico's CNI plugin does it: the pod's address a /128, its default route via a fixed
 * link-local address the host end holds (fe80::ecee:eeff:feee:eeee, the address Calico's host ends
 * get from their MAC ee:ee:ee:ee:ee:ee; set here explicitly, the MAC staying random), so neighbour
 * discovery needs no proxy; the node a /128 route to the pod. With `staticGateway` (the ebpf
 * plugin) the pod holds that gateway's MAC as a permanent entry too, as it does 169.254.1.1's.
 * Addresses are added without DAD (nodad): nothing else is on the veth. With `dad` (the ebpf
 * plugin's `enabledad`, the topology's ipv6Dad) the pod's go through it instead, as the bridge
 * plugin's do with `enabledad` (configure-iface.ts: enhanced DAD on, then ADD waits until no address
 * is tentative).
 *
 * With `device: 'netkit'` (the ebpf plugin's `device`) the pair is a netkit pair in L3 mode instead
 * of a veth (lib/netlink/netkit.ts): the same addresses and routes, but no MACs (both zero) and no
 * ARP or neighbour discovery on it, so the pod needs no gateway entry; its end drops what it sends
 * until the plugin attaches the pair's program.
 */
import { kernelBatch } from '../../../lib/netlink/ip-lines';
import { writeNetSysctls } from '../../../lib/sysctl';
import { ifaceSysctls, settleAddresses } from './configure-iface';
import type { PluginEnv } from '../../skel';
import { CniCode, CniError, type Result, type ResultIp } from '../../types';
import { aliasOwner, linkList, ownerAlias, randomIfName, randomMac, vethPairLine, type LinkInfo } from './iface';
import { netnsPath, type NetnsRef } from '../../../lib/netns';
import { openSync } from 'node:fs';
import { withRtnl } from '../../../lib/netlink/rtnl';
import { queueNetkitAdd } from '../../../lib/netlink/netkit';
import { applyBigTcp } from './big-tcp';

/** The pod's gateway: link-local, the host end's MAC stands for it. */
export const POD_GATEWAY = '169.254.1.1';

/** The pod's IPv6 gateway: the host end's fixed link-local address. */
export const POD_GATEWAY6 = 'fe80::ecee:eeff:feee:eeee';

export const ipOf = (cidr: string): string => cidr.split('/')[0]!;

/**
 * IPAM's addresses, as the pod holds them: each IPv4 a /32 behind the link-local gateway, each
 * IPv6 (with `ipv6`) a /128 behind the host end's link-local address; in IPAM's order.
 */
export function podAddresses(plugin: string, ipamResult: Result, { ipv6 = false } = {}): ResultIp[] {
  const all = ipamResult.ips ?? [];
  const usable = all.filter((a) => ipv6 || !a.address.includes(':'));
  if (usable.length === 0 || usable.length !== all.length)
    throw new CniError(
      CniCode.INVALID_CONFIG,
      `ipam: the ${plugin} plugin takes ${ipv6 ? 'IPv4 or IPv6' : 'IPv4'} addresses only (one or more)`,
    );
  return usable.map((a) =>
    a.address.includes(':')
      ? { address: `${ipOf(a.address)}/128`, gateway: POD_GATEWAY6, interface: 1 }
      : { address: `${ipOf(a.address)}/32`, gateway: POD_GATEWAY, interface: 1 },
  );
}

const isV6 = (a: ResultIp): boolean => a.address.includes(':');

/** A netkit pair's MACs in L3 mode: none. */
export const NO_MAC = '00:00:00:00:00:00';

export interface L3Pod {
  readonly hostVeth: string;
  readonly hostMac: string;
  readonly contMac: string;
}

/**
 * Makes the veth pair, the node's /32 routes and the pod's addresses and routes. `beforeUp` runs
 * on the node before the host end comes up; with `staticGateway` the pod holds the gateway's MAC
 * as a permanent entry instead of asking for it. `undo` gets what removes the host end.
 */
export async function wireL3Pod(
  o: {
    readonly network: string;
    readonly prefix: string;
    readonly mtu: number;
    readonly ns: NetnsRef;
    readonly env: PluginEnv;
    readonly ips: readonly ResultIp[];
    readonly ipamRoutes: Result['routes'];
    readonly staticGateway: boolean;
    /** DAD on the pod's IPv6 addresses (default: off, nodad). */
    readonly dad?: boolean;
    /** The pair: a veth (default), or a netkit pair in L3 mode. */
    readonly device?: 'veth' | 'netkit';
    /** BIG TCP's sizes on both ends of the veth (common/big-tcp.ts; default: the kernel's). */
    readonly bigTcp?: boolean;
    /** Runs on the node once the host end exists, before it comes up. */
    readonly beforeUp?: (hostVeth: string) => void;
  },
  undo: (() => Promise<unknown>)[],
  deleteHostEnd: (name: string) => Promise<void>,
): Promise<L3Pod> {
  const netkit = o.device === 'netkit';
  const pod: L3Pod = netkit
    ? { hostVeth: randomIfName(o.prefix), hostMac: NO_MAC, contMac: NO_MAC }
    : { hostVeth: randomIfName(o.prefix), hostMac: randomMac(), contMac: randomMac() };
  undo.push(() => deleteHostEnd(pod.hostVeth));
  await kernelBatch(undefined, [
    ...makePair(o, pod),
    ['link', 'set', 'dev', pod.hostVeth, 'alias', ownerAlias(o.network, o.env)],
    ...(o.beforeUp ? [] : [['link', 'set', 'dev', pod.hostVeth, 'up']]),
  ]);
  if (o.bigTcp) {
    applyBigTcp(undefined, [pod.hostVeth]);
    applyBigTcp(o.ns, [o.env.ifName]);
  }
  if (o.beforeUp) o.beforeUp(pod.hostVeth);
  const v4 = o.ips.filter((a) => !isV6(a));
  const v6 = o.ips.filter(isV6);
  await kernelBatch(undefined, [
    ...(v6.length > 0 ? [['addr', 'add', `${POD_GATEWAY6}/64`, 'dev', pod.hostVeth, 'nodad']] : []),
    ...(o.beforeUp ? [['link', 'set', 'dev', pod.hostVeth, 'up']] : []),
    ...v4.map((a) => ['route', 'add', ipOf(a.address), 'dev', pod.hostVeth, 'scope', 'link']),
    ...v6.map((a) => ['route', 'add', a.address, 'dev', pod.hostVeth]),
  ]);
  if (o.dad && v6.length > 0) writeNetSysctls(o.ns, ifaceSysctls(o.env.ifName, { dad: 'on' }), { bestEffort: true });
  await kernelBatch(o.ns, [
    ...o.ips.map((a) => ['addr', 'add', a.address, 'dev', o.env.ifName, ...(isV6(a) && !o.dad ? ['nodad'] : [])]),
    ['link', 'set', 'dev', o.env.ifName, 'up'],
    ...(v6.length > 0 ? [['route', 'add', '::/0', 'via', POD_GATEWAY6, 'dev', o.env.ifName]] : []),
    // each family's gateway only where the pod has that family: a v6-only pod holds nothing of IPv4
    // (a netkit pair has no ARP or neighbour discovery: nothing to pin)
    ...(o.staticGateway && !netkit && v4.length > 0
      ? [['neigh', 'add', POD_GATEWAY, 'lladdr', pod.hostMac, 'dev', o.env.ifName, 'nud', 'permanent']]
      : []),
    ...(o.staticGateway && !netkit && v6.length > 0
      ? [['neigh', 'add', POD_GATEWAY6, 'lladdr', pod.hostMac, 'dev', o.env.ifName, 'nud', 'permanent']]
      : []),
    ...(v4.length > 0
      ? [
          ['route', 'add', POD_GATEWAY, 'dev', o.env.ifName, 'scope', 'link'],
          ['route', 'add', 'default', 'via', POD_GATEWAY, 'dev', o.env.ifName],
        ]
      : []),
    ...(o.ipamRoutes ?? [])
      .filter((r) => !r.dst.includes(':') && r.dst !== '0.0.0.0/0')
      .map((r) => ['route', 'add', r.dst, 'via', POD_GATEWAY, 'dev', o.env.ifName]),
  ]);
  // as configure-iface's step 4: the pod's addresses usable before ADD returns
  if (o.dad && v6.length > 0) await settleAddresses(o.ns, o.env.ifName);
  return pod;
}

/**
 * Makes the pod's pair: a netkit pair now, over netlink (iproute2 6.1 knows none), or a veth pair
 * as the `ip` line it returns for the caller's batch.
 */
function makePair(
  o: { readonly device?: 'veth' | 'netkit'; readonly env: PluginEnv; readonly ns: NetnsRef; readonly mtu: number },
  pod: L3Pod,
): string[][] {
  if (o.device !== 'netkit')
    return [
      vethPairLine(
        { name: pod.hostVeth, mac: pod.hostMac },
        { name: o.env.ifName, mac: pod.contMac, netns: o.ns },
        o.mtu,
      ),
    ];
  withRtnl(undefined, (nl) =>
    queueNetkitAdd(nl, {
      name: pod.hostVeth,
      peer: { name: o.env.ifName, netnsFd: openSync(netnsPath(o.ns), 'r') },
      mtu: o.mtu,
    }),
  );
  return [];
}

/** The host ends of `network`'s attachments on this node, with their owners. */
export async function hostEnds(network: string): Promise<{ link: LinkInfo; key: string }[]> {
  return (await linkList(undefined)).flatMap((l) => {
    const kind = l.linkinfo?.info_kind;
    const o = kind === 'veth' || kind === 'netkit' ? aliasOwner(l, network) : undefined;
    return o ? [{ link: l, key: `${o.containerId}/${o.ifName}` }] : [];
  });
}
