/**
 * `ptp`: a point-to-point veth per container, routed rather than bridged, in either family or both.
 * The container reaches everything through the host end, which holds each IPAM gateway as a /32
 * (IPv6: /128); the host reaches the container through a /32 (/128) route on that end.
 *
 *   container eth0 10.1.1.2/24 ──veth── vethXXXXXXXX 10.1.1.1/32 ── host routing
 *   container: 10.1.1.1 dev eth0 scope link; 10.1.1.0/24 via 10.1.1.1; IPAM's routes via 10.1.1.1
 *   host:      10.1.1.2 dev vethXXXXXXXX scope host
 *
 * IPv6 alike (fd00::2/64, fd00::1/128 on the host end). The container's interface keeps DAD on, as the
 * reference's does: ADD waits until its addresses are no longer tentative (configure-iface.ts).
 */
import { formatPrefix, parsePrefix } from '../../../lib/ip';
import type { NetnsRef } from '../../../lib/netns';
import { kernelBatch } from '../../../lib/netlink/ip-lines';
import { parseJson, type CniPlugin, type PluginEnv } from '../../skel';
import { bool, int, str } from '../../validate';
import {
  CniCode,
  CniError,
  type GcAttachment,
  type IpamConf,
  type NetConf,
  type Result,
  type ResultIp,
} from '../../types';
import {
  aliasOwner,
  vethPairLine,
  attachmentKeys,
  checkContainerSide,
  containerNetns,
  deleteLink,
  differs,
  ipamAdd,
  ipamConf,
  ipamDel,
  ipamOf,
  ipamPass,
  ipsOn,
  kernelError,
  linkInfo,
  linkList,
  netnsExists,
  ownerAlias,
  randomIfName,
  randomMac,
  rollback,
} from '../common/iface';
import { collectMasq, masqueradeIps, teardownMasq } from '../common/netfilter';
import { configureIface } from '../common/configure-iface';
import { forwardingSysctls } from '../common/forwarding';
import { writeNetSysctls } from '../../../lib/sysctl';

export interface PtpConf {
  readonly cniVersion: string;
  readonly name: string;
  /** Default: 1500. */
  readonly mtu: number;
  readonly ipMasq: boolean;
  readonly ipam: IpamConf;
  readonly raw: NetConf;
}

export function parsePtpConfig(stdin: string): PtpConf {
  const o = parseJson(stdin);
  const conf = { ipam: ipamOf(o) };
  return {
    cniVersion: str(o, 'cniVersion', 'cniVersion'),
    name: str(o, 'name', 'name'),
    mtu: int(o, 'mtu', 'mtu', 68, 65535) ?? 1500,
    ipMasq: bool(o, 'ipMasq', 'ipMasq', false),
    ipam: ipamConf(conf),
    raw: o as unknown as NetConf,
  };
}

/** The addresses IPAM gave (IPv4, IPv6 or both), each with a gateway; throws when there are none. */
function ptpAddresses(ipamResult: Result): readonly ResultIp[] {
  const ips = ipamResult.ips ?? [];
  if (ips.length === 0) throw new CniError(CniCode.INVALID_CONFIG, 'ipam: ptp needs an address from IPAM');
  if (ips.some((a) => !a.gateway))
    throw new CniError(CniCode.INVALID_CONFIG, 'ipam: ptp needs a gateway for every address (it goes on the host end)');
  return ips;
}

/** The host-route length of an address's family: 32 or 128. */
const hostBits = (address: string): number => (address.includes(':') ? 128 : 32);

/** The two ends of the veth pair: the host end's name and both MACs. */
interface VethPair {
  readonly hostVeth: string;
  readonly hostMac: string;
  readonly contMac: string;
}

/** The host side's `ip` lines: the veth pair, the host end's alias, gateways (/32, /128) and routes to the container. */
export function hostSideLines(
  conf: Pick<PtpConf, 'name' | 'mtu'>,
  env: PluginEnv,
  ns: NetnsRef,
  veth: VethPair,
  ips: readonly ResultIp[],
): string[][] {
  const { hostVeth, hostMac, contMac } = veth;
  const hostLines: string[][] = [
    vethPairLine({ name: hostVeth, mac: hostMac }, { name: env.ifName, mac: contMac, netns: ns }, conf.mtu),
    ['link', 'set', 'dev', hostVeth, 'alias', ownerAlias(conf.name, env)],
    ['link', 'set', 'dev', hostVeth, 'up'],
  ];
  for (const a of ips) {
    hostLines.push(['addr', 'add', `${a.gateway}/${hostBits(a.address)}`, 'dev', hostVeth]);
    hostLines.push(['route', 'add', a.address.split('/')[0]!, 'dev', hostVeth, 'scope', 'host']);
  }
  return hostLines;
}

/**
 * The container side's `ip` lines once it is addressed (configure-iface.ts), as the reference's: the
 * subnet's route the kernel made goes, the gateway becomes a host route on the link, and the subnet
 * is reached through it — so all but the gateway itself goes via the gateway.
 */
export function containerRouteLines(ifName: string, ips: readonly ResultIp[]): string[][] {
  return ips.flatMap((a) => {
    const src = a.address.split('/')[0]!;
    const subnet = formatPrefix(parsePrefix(a.address)!);
    return [
      ['route', 'del', subnet, 'dev', ifName],
      ['route', 'add', `${a.gateway}/${hostBits(a.address)}`, 'dev', ifName, 'scope', 'link', 'src', src],
      ['route', 'add', subnet, 'via', a.gateway!, 'dev', ifName, 'src', src],
    ];
  });
}

/** ADD's result: both ends of the veth pair and IPAM's addresses on the container end. */
function ptpResult(conf: PtpConf, env: PluginEnv, veth: VethPair, ipamResult: Result): Result {
  return {
    cniVersion: conf.cniVersion,
    interfaces: [
      { name: veth.hostVeth, mac: veth.hostMac },
      { name: env.ifName, mac: veth.contMac, sandbox: env.netns },
    ],
    ips: ipsOn(ipamResult, 1),
    routes: ipamResult.routes ?? [],
    dns: conf.raw.dns ?? {},
  };
}

async function add(conf: PtpConf, env: PluginEnv): Promise<Result> {
  const ns = containerNetns(env);
  const undo: (() => Promise<unknown>)[] = [];
  try {
    const ipamResult = await ipamAdd(conf, env);
    undo.push(() => ipamDel(conf, env));
    const ips = ptpAddresses(ipamResult);
    const hostVeth = randomIfName('veth');
    const hostMac = randomMac();
    const contMac = randomMac();
    const veth: VethPair = { hostVeth, hostMac, contMac };
    const hostLines = hostSideLines(conf, env, ns, veth, ips);
    undo.push(() => deleteLink(undefined, hostVeth));
    await kernelBatch(undefined, hostLines);
    // of the host namespace this plugin runs in: no router advertisements on the host end, forwarding per family
    writeNetSysctls(undefined, [[`net/ipv6/conf/${hostVeth}/accept_ra`, '0']], { bestEffort: true });
    writeNetSysctls(undefined, forwardingSysctls(ips));
    // DAD as the namespace has it (on): ADD waits for it when an IPv6 address has a gateway, as the reference's
    await configureIface(ns, env.ifName, { ips, routes: ipamResult.routes ?? [] });
    await kernelBatch(ns, containerRouteLines(env.ifName, ips));
    if (conf.ipMasq) {
      undo.push(() => teardownMasq(conf.name, env.containerId));
      await masqueradeIps(conf.name, env.containerId, ips);
    }
    return ptpResult(conf, env, veth, ipamResult);
  } catch (e) {
    await rollback(undo);
    throw kernelError('ptp ADD', e);
  }
}

/** Host ends of `network` owned by attachments in `keys` (only = true) or by any other (only = false). */
async function deleteHostEnds(network: string, keys: Set<string>, only: boolean): Promise<void> {
  const links = (await linkList(undefined)).filter((l) => l.linkinfo?.info_kind === 'veth');
  for (const l of links) {
    const o = aliasOwner(l, network);
    if (o && keys.has(`${o.containerId}/${o.ifName}`) === only) await deleteLink(undefined, l.ifname);
  }
}

async function del(conf: PtpConf, env: PluginEnv): Promise<void> {
  await ipamDel(conf, env);
  const ns = netnsExists(env);
  if (ns) await deleteLink(ns, env.ifName);
  else await deleteHostEnds(conf.name, new Set([`${env.containerId}/${env.ifName}`]), true);
  if (conf.ipMasq) await teardownMasq(conf.name, env.containerId);
}

async function check(conf: PtpConf, env: PluginEnv, prev: Result): Promise<void> {
  const ns = containerNetns(env);
  await ipamPass(conf, 'CHECK', env);
  const cont = await checkContainerSide(ns, env, prev, 'veth');
  if (cont.mtu !== conf.mtu) throw differs(`${env.ifName} has MTU ${cont.mtu}, the configuration says ${conf.mtu}`);
  const host = (prev.interfaces ?? []).find((i) => !i.sandbox);
  if (host) {
    const link = await linkInfo(undefined, host.name);
    if (!link) throw differs(`the host end ${host.name} does not exist`);
    for (const a of prev.ips ?? []) {
      const bits = hostBits(a.address);
      if (a.gateway && !(link.addr_info ?? []).some((x) => x.local === a.gateway && x.prefixlen === bits))
        throw differs(`the host end ${host.name} does not hold ${a.gateway}/${bits}`);
    }
  }
}

async function status(conf: PtpConf, env: PluginEnv): Promise<void> {
  await ipamPass(conf, 'STATUS', env);
}

async function gc(conf: PtpConf, env: PluginEnv, valid: readonly GcAttachment[]): Promise<void> {
  await ipamPass(conf, 'GC', env, valid);
  await deleteHostEnds(conf.name, attachmentKeys(valid), false);
  if (conf.ipMasq) await collectMasq(conf.name, valid);
}

export const ptpPlugin: CniPlugin<PtpConf> = { parseConfig: parsePtpConfig, add, del, check, status, gc };
