/**
 * `ptp`: a point-to-point veth per container, routed rather than bridged. The container reaches
 * everything through the host end, which holds the IPAM gateway as a /32; the host reaches the
 * container through a /32 route on that end.
 *
 *   container eth0 10.1.1.2/24 ──veth── vethXXXXXXXX 10.1.1.1/32 ── host routing
 *   container: 10.1.1.1 dev eth0 scope link; 10.1.1.0/24 via 10.1.1.1; IPAM's routes via 10.1.1.1
 *   host:      10.1.1.2 dev vethXXXXXXXX scope host
 */
import { writeFileSync } from 'node:fs';
import { formatCidr, parseCidr } from '../../../lib/ip';
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
  type ResultRoute,
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

/** The IPv4 addresses IPAM gave, each with a gateway; throws when there are none or any other kind. */
function ptpAddresses(ipamResult: Result): ResultIp[] {
  const v4 = (ipamResult.ips ?? []).filter((a) => !a.address.includes(':'));
  if (v4.length !== (ipamResult.ips ?? []).length)
    throw new CniError(CniCode.INVALID_CONFIG, "ipam: cnilab's ptp takes IPv4 addresses only; give it an IPv4 range");
  if (v4.length === 0) throw new CniError(CniCode.INVALID_CONFIG, 'ipam: ptp needs an IPv4 address from IPAM');
  if (v4.some((a) => !a.gateway))
    throw new CniError(CniCode.INVALID_CONFIG, 'ipam: ptp needs a gateway for every address (it goes on the host end)');
  return v4;
}

/** The two ends of the veth pair: the host end's name and both MACs. */
interface VethPair {
  readonly hostVeth: string;
  readonly hostMac: string;
  readonly contMac: string;
}

/** The host side's `ip` lines: the veth pair, the host end's alias, gateways (/32) and routes to the container. */
function hostSideLines(
  conf: PtpConf,
  env: PluginEnv,
  ns: NetnsRef,
  veth: VethPair,
  v4: readonly ResultIp[],
): string[][] {
  const { hostVeth, hostMac, contMac } = veth;
  const hostLines: string[][] = [
    vethPairLine({ name: hostVeth, mac: hostMac }, { name: env.ifName, mac: contMac, netns: ns }, conf.mtu),
    ['link', 'set', 'dev', hostVeth, 'alias', ownerAlias(conf.name, env)],
    ['link', 'set', 'dev', hostVeth, 'up'],
  ];
  for (const a of v4) {
    hostLines.push(['addr', 'add', `${a.gateway}/32`, 'dev', hostVeth]);
    hostLines.push(['route', 'add', a.address.split('/')[0]!, 'dev', hostVeth, 'scope', 'host']);
  }
  return hostLines;
}

/** The container side's `ip` lines: addresses, the link up, routes to the gateways, the subnets and IPAM's routes. */
function containerSideLines(env: PluginEnv, v4: readonly ResultIp[], routes: readonly ResultRoute[]): string[][] {
  const contLines: string[][] = [];
  for (const a of v4) contLines.push(['addr', 'add', a.address, 'dev', env.ifName, 'noprefixroute']);
  contLines.push(['link', 'set', 'dev', env.ifName, 'up']);
  for (const a of v4) {
    const src = a.address.split('/')[0]!;
    contLines.push(['route', 'add', `${a.gateway}/32`, 'dev', env.ifName, 'scope', 'link', 'src', src]);
    contLines.push([
      'route',
      'add',
      formatCidr(parseCidr(a.address)),
      'via',
      a.gateway!,
      'dev',
      env.ifName,
      'src',
      src,
    ]);
  }
  for (const r of routes) {
    if (r.dst.includes(':')) continue;
    contLines.push(['route', 'add', r.dst, 'via', r.gw ?? v4[0]!.gateway!, 'dev', env.ifName]);
  }
  return contLines;
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
    const v4 = ptpAddresses(ipamResult);
    const hostVeth = randomIfName('veth');
    const hostMac = randomMac();
    const contMac = randomMac();
    const veth: VethPair = { hostVeth, hostMac, contMac };
    const hostLines = hostSideLines(conf, env, ns, veth, v4);
    undo.push(() => deleteLink(undefined, hostVeth));
    await kernelBatch(undefined, hostLines);
    await kernelBatch(ns, containerSideLines(env, v4, ipamResult.routes ?? []));
    writeFileSync('/proc/sys/net/ipv4/ip_forward', '1'); // of the host namespace this plugin runs in
    if (conf.ipMasq) {
      undo.push(() => teardownMasq(conf.name, env.containerId));
      await masqueradeIps(conf.name, env.containerId, v4);
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
      if (
        a.gateway &&
        !a.gateway.includes(':') &&
        !(link.addr_info ?? []).some((x) => x.local === a.gateway && x.prefixlen === 32)
      )
        throw differs(`the host end ${host.name} does not hold ${a.gateway}/32`);
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
