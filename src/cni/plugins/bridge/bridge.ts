/**
 * `bridge`: a veth pair per container, the host end a port of a Linux bridge in the host
 * namespace, the container end created directly in the container's namespace and addressed by the
 * IPAM plugin.
 *
 *   container eth0 ──veth── vethXXXXXXXX ── bridge (gateway address) ── host routing
 *
 * The kernel work is done over netlink in this process (lib/netlink): an `ip` start costs ~8.5 ms
 * here, a netlink request microseconds; ADD reads the bridge, makes and enslaves the veth, then
 * addresses the container end, all over two sockets (the host's, the container's).
 * The host end's alias names its owner ("cni:NETWORK:CONTAINERID:IFNAME"), which is how GC finds ports
 * left by an ADD that was killed half-way.
 */
import type { NetnsRef } from '../../../lib/netns';
import { compileLine, kernelBatch } from '../../../lib/netlink/ip-lines';
import { EEXIST, NetlinkError, withRtnl } from '../../../lib/netlink/rtnl';
import type { CniPlugin, PluginEnv } from '../../skel';
import { CniCode, CniError, type GcAttachment, type Result, type ResultRoute } from '../../types';
import {
  aliasOwner,
  vethPairLine,
  bridgeAlias,
  attachmentKeys,
  checkContainerSide,
  containerNetns,
  deleteLink,
  differs,
  ipamAdd,
  ipamDel,
  ipamPass,
  ipsOn,
  kernelError,
  linkInfo,
  linkList,
  type LinkInfo,
  netnsExists,
  ownerAlias,
  randomIfName,
  randomMac,
  rollback,
} from '../common/iface';
import {
  collectMasq,
  collectOrphanSpoofChecks,
  masqueradeIps,
  setupMacSpoofCheck,
  teardownMacSpoofCheck,
  teardownMasq,
} from '../common/netfilter';
import { configureIface } from '../common/configure-iface';
import { forwardingSysctls } from '../common/forwarding';
import { writeNetSysctls } from '../../../lib/sysctl';
import { parseBridgeConfig, type BridgeConf } from './config';
import { applyBigTcp, checkBigTcp } from '../common/big-tcp';

/** The bridge as it is now, or undefined; refuses a link of that name that is not a bridge. */
async function currentBridge(conf: BridgeConf): Promise<LinkInfo | undefined> {
  const link = await linkInfo(undefined, conf.bridge);
  if (link && link.linkinfo?.info_kind !== 'bridge')
    throw new CniError(
      CniCode.INVALID_CONFIG,
      `bridge: ${conf.bridge} exists and is a ${link.linkinfo?.info_kind ?? 'device'}, not a bridge`,
    );
  return link;
}

/** What to do to the bridge's addresses so that it holds `gw`: the reference's rule for IPv4. */
function gatewayLines(conf: BridgeConf, br: LinkInfo | undefined, gw: string): string[][] {
  const family = gw.includes(':') ? 'inet6' : 'inet';
  const others = (br?.addr_info ?? []).filter(
    (a) => a.family === family && `${a.local}/${a.prefixlen}` !== gw && !a.local.startsWith('fe80:'),
  );
  if ((br?.addr_info ?? []).some((a) => `${a.local}/${a.prefixlen}` === gw)) return [];
  if (family === 'inet' && others.length > 0) {
    if (!conf.forceAddress) {
      throw new CniError(
        CniCode.INVALID_CONFIG,
        `bridge ${conf.bridge} already has ${others.map((a) => `${a.local}/${a.prefixlen}`).join(', ')}, not the ` +
          `gateway ${gw}; set forceAddress to replace it`,
      );
    }
    return [
      ...others.map((a) => ['addr', 'del', `${a.local}/${a.prefixlen}`, 'dev', conf.bridge]),
      ['addr', 'replace', gw, 'dev', conf.bridge],
    ];
  }
  return [['addr', 'replace', gw, 'dev', conf.bridge]];
}

/**
 * Creates the bridge (first ADD on this host), its alias naming the network that made it (how
 * `cnilab doctor` tells a bridge of ours from another CNI's); another ADD creating it at the same
 * time is fine.
 */
async function createBridge(conf: BridgeConf): Promise<void> {
  try {
    await kernelBatch(undefined, [
      ['link', 'add', 'name', conf.bridge, 'address', randomMac(), 'mtu', String(conf.mtu), 'type', 'bridge'],
      ['link', 'set', 'dev', conf.bridge, 'alias', bridgeAlias(conf.name)],
    ]);
  } catch (e) {
    if (!(e instanceof NetlinkError && e.errno === EEXIST)) throw e;
  }
}

/**
 * The host side over one socket: it first reads the bridge (a missing bridge stops here, before
 * anything is made), then makes and enslaves the veth, the container end directly in the
 * container's namespace. Returns the bridge as it was.
 */
async function plugHost(
  conf: BridgeConf,
  env: PluginEnv,
  ns: NetnsRef,
  hostVeth: string,
  hostMac: string,
  contMac: string,
): Promise<LinkInfo | undefined> {
  const lines: string[][] = [
    vethPairLine({ name: hostVeth, mac: hostMac }, { name: env.ifName, mac: contMac, netns: ns }, conf.mtu),
    ['link', 'set', 'dev', hostVeth, 'alias', ownerAlias(conf.name, env), 'master', conf.bridge],
    ...(conf.hairpinMode ? [['link', 'set', 'dev', hostVeth, 'type', 'bridge_slave', 'hairpin', 'on']] : []),
    ['link', 'set', 'dev', hostVeth, 'up'],
  ];
  const ops = lines.map(compileLine);
  try {
    return withRtnl(undefined, (nl) => {
      const br = nl.link(conf.bridge, { addrs: true });
      if (br) for (const op of ops) op(nl);
      return br;
    });
  } catch (e) {
    if (e instanceof NetlinkError && e.errno === EEXIST && (await linkInfo(ns, env.ifName)))
      throw new CniError(CniCode.INVALID_CONFIG, `CNI_IFNAME ${env.ifName} already exists in ${env.netns}`);
    throw e;
  }
}

/** Whatever the bridge still needs: up, promiscuous, the gateway address (the reference's rule for IPv4). */
function bridgeFixes(conf: BridgeConf, br: LinkInfo, gateways: readonly string[]): string[][] {
  if (br.linkinfo?.info_kind !== 'bridge')
    throw new CniError(
      CniCode.INVALID_CONFIG,
      `bridge: ${conf.bridge} exists and is a ${br.linkinfo?.info_kind ?? 'device'}, not a bridge`,
    );
  const lines: string[][] = [];
  if (!br.flags?.includes('UP')) lines.push(['link', 'set', 'dev', conf.bridge, 'up']);
  if (conf.promiscMode && !br.flags?.includes('PROMISC'))
    lines.push(['link', 'set', 'dev', conf.bridge, 'promisc', 'on']);
  for (const gw of gateways) lines.push(...gatewayLines(conf, br, gw));
  return lines;
}

async function add(conf: BridgeConf, env: PluginEnv): Promise<Result> {
  const ns = containerNetns(env);
  const undo: (() => Promise<unknown>)[] = [];
  try {
    const ipamResult = conf.ipam ? await ipamAdd(conf, env) : undefined;
    if (ipamResult) undo.push(() => ipamDel(conf, env));
    const gateways = conf.isGateway
      ? (ipamResult?.ips ?? []).filter((a) => a.gateway).map((a) => `${a.gateway}/${a.address.split('/')[1]}`)
      : [];

    const hostVeth = randomIfName('veth');
    const hostMac = randomMac();
    const contMac = randomMac();
    undo.push(() => deleteLink(undefined, hostVeth));
    let br = await plugHost(conf, env, ns, hostVeth, hostMac, contMac);
    if (!br) {
      await createBridge(conf);
      br = await plugHost(conf, env, ns, hostVeth, hostMac, contMac);
      if (!br)
        throw new CniError(CniCode.KERNEL_OPERATION, `bridge ${conf.bridge} disappeared while it was being set up`);
    }
    await kernelBatch(undefined, bridgeFixes(conf, br, gateways));
    if (conf.bigTcp) {
      applyBigTcp(undefined, [conf.bridge, hostVeth]);
      applyBigTcp(ns, [env.ifName]);
    }
    // as the reference: no router advertisements taken on the bridge and the host end (the plugin owns their routes)
    writeNetSysctls(
      undefined,
      [conf.bridge, hostVeth].map((l) => [`net/ipv6/conf/${l}/accept_ra`, '0'] as const),
      { bestEffort: true },
    );

    const routes: ResultRoute[] = [...(ipamResult?.routes ?? [])];
    if (conf.isDefaultGateway) {
      for (const [dst, v6] of [
        ['0.0.0.0/0', false],
        ['::/0', true],
      ] as const) {
        const gw = ipamResult?.ips?.find((a) => a.gateway && a.gateway.includes(':') === v6)?.gateway;
        if (gw && !routes.some((r) => r.dst === dst)) routes.push({ dst, gw });
      }
    }
    // DAD off in the container unless `enabledad`, as the reference's bridge (configure-iface.ts)
    await configureIface(
      ns,
      env.ifName,
      { ips: ipamResult?.ips ?? [], routes },
      ipamResult ? { dad: conf.enableDad ? 'on' : 'off', arpNotify: true } : {},
    );

    // forwarding on in the host namespace this plugin runs in, for each family it is a gateway of
    writeNetSysctls(undefined, forwardingSysctls(gateways.map((address) => ({ address }))));
    if (conf.ipMasq && ipamResult) {
      undo.push(() => teardownMasq(conf.name, env.containerId));
      await masqueradeIps(conf.name, env.containerId, ipamResult.ips!);
    }
    if (conf.macspoofchk) {
      undo.push(() => teardownMacSpoofCheck(env.containerId, env.ifName));
      await setupMacSpoofCheck(env.containerId, env.ifName, hostVeth, contMac);
    }
    return {
      cniVersion: conf.cniVersion,
      interfaces: [
        { name: conf.bridge, mac: br.address },
        { name: hostVeth, mac: hostMac },
        { name: env.ifName, mac: contMac, sandbox: env.netns },
      ],
      ...(ipamResult ? { ips: ipsOn(ipamResult, 2), routes } : {}),
      dns: conf.raw.dns ?? {},
    };
  } catch (e) {
    await rollback(undo);
    throw kernelError('bridge ADD', e);
  }
}

async function del(conf: BridgeConf, env: PluginEnv): Promise<void> {
  await ipamDel(conf, env);
  const ns = netnsExists(env);
  if (ns)
    await deleteLink(ns, env.ifName); // the host end goes with it
  else await deletePortsOf(conf, new Set([`${env.containerId}/${env.ifName}`]), true);
  if (conf.ipMasq) await teardownMasq(conf.name, env.containerId);
  if (conf.macspoofchk) await teardownMacSpoofCheck(env.containerId, env.ifName);
}

/**
 * Deletes the host ends of this network on the bridge owned by `attachments` (only = true) or by any other (only =
 * false).
 */
async function deletePortsOf(conf: BridgeConf, attachments: Set<string>, only: boolean): Promise<void> {
  const ports = (await linkList(undefined)).filter((l) => l.master === conf.bridge); // no bridge: no ports
  for (const p of ports) {
    const o = aliasOwner(p, conf.name);
    if (o && attachments.has(`${o.containerId}/${o.ifName}`) === only) await deleteLink(undefined, p.ifname);
  }
}

async function check(conf: BridgeConf, env: PluginEnv, prev: Result): Promise<void> {
  const ns = containerNetns(env);
  await ipamPass(conf, 'CHECK', env);
  const br = await currentBridge(conf);
  if (!br) throw differs(`bridge ${conf.bridge} does not exist`);
  const cont = await checkContainerSide(ns, env, prev, 'veth');
  if (cont.mtu !== conf.mtu) throw differs(`${env.ifName} has MTU ${cont.mtu}, the configuration says ${conf.mtu}`);
  const host = (prev.interfaces ?? []).find((i) => i.sandbox === undefined && i.name !== conf.bridge);
  if (host) {
    const link = await linkInfo(undefined, host.name);
    if (!link) throw differs(`the host end ${host.name} does not exist`);
    if (link.master !== conf.bridge) throw differs(`the host end ${host.name} is not a port of ${conf.bridge}`);
  }
  if (conf.bigTcp) {
    checkBigTcp(ns, [env.ifName]);
    checkBigTcp(undefined, [conf.bridge, ...(host ? [host.name] : [])]);
  }
}

/** 51 when the bridge is there but down (its containers are cut off); else IPAM's answer. */
async function status(conf: BridgeConf, env: PluginEnv): Promise<void> {
  const br = await currentBridge(conf);
  if (br && !br.flags?.includes('UP'))
    throw new CniError(
      CniCode.NOT_AVAILABLE_LIMITED,
      `bridge: ${conf.bridge} is down; its containers have no connectivity`,
    );
  await ipamPass(conf, 'STATUS', env);
}

/** IPAM's GC, then the ports (and netfilter state) of attachments that are no longer valid. */
async function gc(conf: BridgeConf, env: PluginEnv, valid: readonly GcAttachment[]): Promise<void> {
  await ipamPass(conf, 'GC', env, valid);
  const keys = attachmentKeys(valid);
  await deletePortsOf(conf, keys, false);
  if (conf.macspoofchk) {
    // the chains of the ports just deleted, and of any whose port went some other way
    const links = new Set((await linkList(undefined)).map((l) => l.ifname));
    await collectOrphanSpoofChecks((name) => links.has(name));
  }
  if (conf.ipMasq) await collectMasq(conf.name, valid);
}

export const bridgePlugin: CniPlugin<BridgeConf> = { parseConfig: parseBridgeConfig, add, del, check, status, gc };
