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
 */
import { kernelBatch } from '../../../lib/netlink/ip-lines';
import type { PluginEnv } from '../../skel';
import { CniCode, CniError, type Result, type ResultIp } from '../../types';
import { aliasOwner, linkList, ownerAlias, randomIfName, randomMac, vethPairLine, type LinkInfo } from './iface';
import type { NetnsRef } from '../../../lib/netns';

/** The pod's gateway: link-local, the host end's MAC stands for it. */
export const POD_GATEWAY = '169.254.1.1';

export const ipOf = (cidr: string): string => cidr.split('/')[0]!;

/** IPAM's IPv4 addresses, as the pod holds them: each a /32 behind the link-local gateway. */
export function podAddresses(plugin: string, ipamResult: Result): ResultIp[] {
  const all = ipamResult.ips ?? [];
  const v4 = all.filter((a) => !a.address.includes(':'));
  if (v4.length === 0 || v4.length !== all.length)
    throw new CniError(CniCode.INVALID_CONFIG, `ipam: the ${plugin} plugin takes IPv4 addresses only (one or more)`);
  return v4.map((a) => ({ address: `${ipOf(a.address)}/32`, gateway: POD_GATEWAY, interface: 1 }));
}

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
    /** Runs on the node once the host end exists, before it comes up. */
    readonly beforeUp?: (hostVeth: string) => void;
  },
  undo: (() => Promise<unknown>)[],
  deleteHostEnd: (name: string) => Promise<void>,
): Promise<L3Pod> {
  const pod: L3Pod = { hostVeth: randomIfName(o.prefix), hostMac: randomMac(), contMac: randomMac() };
  undo.push(() => deleteHostEnd(pod.hostVeth));
  await kernelBatch(undefined, [
    vethPairLine(
      { name: pod.hostVeth, mac: pod.hostMac },
      { name: o.env.ifName, mac: pod.contMac, netns: o.ns },
      o.mtu,
    ),
    ['link', 'set', 'dev', pod.hostVeth, 'alias', ownerAlias(o.network, o.env)],
    ...(o.beforeUp ? [] : [['link', 'set', 'dev', pod.hostVeth, 'up']]),
  ]);
  if (o.beforeUp) o.beforeUp(pod.hostVeth);
  await kernelBatch(undefined, [
    ...(o.beforeUp ? [['link', 'set', 'dev', pod.hostVeth, 'up']] : []),
    ...o.ips.map((a) => ['route', 'add', ipOf(a.address), 'dev', pod.hostVeth, 'scope', 'link']),
  ]);
  await kernelBatch(o.ns, [
    ...o.ips.map((a) => ['addr', 'add', a.address, 'dev', o.env.ifName]),
    ['link', 'set', 'dev', o.env.ifName, 'up'],
    ...(o.staticGateway
      ? [['neigh', 'add', POD_GATEWAY, 'lladdr', pod.hostMac, 'dev', o.env.ifName, 'nud', 'permanent']]
      : []),
    ['route', 'add', POD_GATEWAY, 'dev', o.env.ifName, 'scope', 'link'],
    ['route', 'add', 'default', 'via', POD_GATEWAY, 'dev', o.env.ifName],
    ...(o.ipamRoutes ?? [])
      .filter((r) => !r.dst.includes(':') && r.dst !== '0.0.0.0/0')
      .map((r) => ['route', 'add', r.dst, 'via', POD_GATEWAY, 'dev', o.env.ifName]),
  ]);
  return pod;
}

/** The host ends of `network`'s attachments on this node, with their owners. */
export async function hostEnds(network: string): Promise<{ link: LinkInfo; key: string }[]> {
  return (await linkList(undefined)).flatMap((l) => {
    const o = l.linkinfo?.info_kind === 'veth' ? aliasOwner(l, network) : undefined;
    return o ? [{ link: l, key: `${o.containerId}/${o.ifName}` }] : [];
  });
}
