/**
 * `bridge`: a veth pair per container, the host end enslaved to a Linux bridge in the host
 * namespace, the container end addressed by the IPAM plugin.
 *
 *   container eth0 ──veth── vethXXXXXXXX ── bridge (gateway address) ── host routing
 */
import { ip, ipBatch, ipJson, netnsTarget } from '../../../lib/netns';
import { writeFileSync } from 'node:fs';
import { parseCidr } from '../../../lib/cidr';
import type { CniPlugin, PluginEnv } from '../../skel';
import type { Result, ResultRoute } from '../../types';
import {
  configureIface,
  containerNetns,
  deleteLink,
  ipamAdd,
  ipamDel,
  ipsOn,
  kernelError,
  linkInfo,
  type LinkInfo,
  netnsExists,
  randomIfName,
  rollback,
} from '../common/iface';
import { parseBridgeConfig, type BridgeConf } from './config';

/** Creates the bridge on the first ADD of this host; "File exists" afterwards is fine. */
async function ensureBridge(conf: BridgeConf): Promise<void> {
  const r = await ip(undefined, ['link', 'add', 'name', conf.bridge, 'mtu', String(conf.mtu), 'type', 'bridge'], { check: false });
  if (r.code !== 0 && !/File exists/.test(r.stderr)) throw new Error(`could not create bridge ${conf.bridge}: ${r.stderr.trim()}`);
}

async function add(conf: BridgeConf, env: PluginEnv): Promise<Result> {
  const ns = containerNetns(env);
  const undo: (() => Promise<unknown>)[] = [];
  const stdin = JSON.stringify(conf.raw);
  try {
    await ensureBridge(conf);
    const hostVeth = randomIfName('veth');
    await ip(ns, ['link', 'add', 'name', env.ifName, 'mtu', String(conf.mtu), 'type', 'veth', 'peer', 'name', hostVeth, 'mtu', String(conf.mtu), 'netns', netnsTarget({ pid: process.pid })]);
    undo.push(() => deleteLink(ns, env.ifName));
    await ipBatch(undefined, [
      ['link', 'set', 'dev', conf.bridge, 'up'],
      ['link', 'set', 'dev', hostVeth, 'master', conf.bridge],
      ['link', 'set', 'dev', hostVeth, 'up'],
    ]);

    const ipam = await ipamAdd(conf, stdin, env);
    undo.push(() => ipamDel(conf, stdin, env));
    const gateway = ipam.ips?.find((a) => a.gateway)?.gateway;
    const routes: ResultRoute[] = [...(ipam.routes ?? [])];
    if (conf.isDefaultGateway && gateway && !routes.some((r) => r.dst === '0.0.0.0/0')) routes.push({ dst: '0.0.0.0/0', gw: gateway });
    await configureIface(ns, env.ifName, { ...ipam, routes });

    if (conf.isGateway && gateway) {
      const prefix = parseCidr(ipam.ips![0]!.address).prefix;
      await ip(undefined, ['addr', 'replace', `${gateway}/${prefix}`, 'dev', conf.bridge]);
      writeFileSync('/proc/sys/net/ipv4/ip_forward', '1'); // of the host namespace this plugin runs in
    }

    const [hostLinks, cont] = await Promise.all([ipJson<LinkInfo[]>(undefined, ['link', 'show']), linkInfo(ns, env.ifName)]);
    const mac = (name: string): string => hostLinks.find((l) => l.ifname === name)?.address ?? '';
    return {
      cniVersion: conf.cniVersion,
      interfaces: [
        { name: conf.bridge, mac: mac(conf.bridge) },
        { name: hostVeth, mac: mac(hostVeth) },
        { name: env.ifName, mac: cont?.address ?? '', sandbox: env.netns },
      ],
      ips: ipsOn(ipam, 2),
      routes,
      dns: ipam.dns ?? {},
    };
  } catch (e) {
    await rollback(undo);
    throw kernelError('bridge ADD', e);
  }
}

async function del(conf: BridgeConf, env: PluginEnv): Promise<void> {
  await ipamDel(conf, JSON.stringify(conf.raw), env);
  const ns = netnsExists(env);
  if (ns) await deleteLink(ns, env.ifName); // the host end goes with it
}

export const bridgePlugin: CniPlugin<BridgeConf> = { parseConfig: parseBridgeConfig, add, del };
