/**
 * `calico`: a pod wired as Calico wires it — a veth with no bridge, the host end `caliXXXXXXXX`
 * holding no address and answering ARP for the pod's link-local gateway by proxy ARP, a /32 route
 * per pod address on the node (src/cni/plugins/common/l3-pod.ts). The node's agent routes the
 * pod blocks between nodes (BGP or VXLAN, src/calico/agent/); IPAM is `calico-ipam`.
 *
 *   node:  net.ipv4.conf.caliX.proxy_arp = 1, net.ipv4.neigh.caliX.proxy_delay = 0 (answer at once)
 *
 * Proxy ARP answers only for an address the node routes elsewhere than the asking interface: the
 * agent gives the node a route to 169.254.1.1 (what a real node's default route does).
 *
 * IPv6 (calico-ipam's `families` with 6): the pod's /128 behind the host end's fixed link-local
 * address fe80::ecee:eeff:feee:eeee (common/l3-pod.ts), the node a /128 route to it, and IPv6
 * forwarding on in the node's namespace (where the plugin runs; never the host's). Addresses are
 * in IPAM's order: the topology's ipFamilies.
 */
import { writeFileSync } from 'node:fs';
import { parseJson, type CniPlugin, type PluginEnv } from '../../skel';
import { int, str } from '../../validate';
import { CniCode, CniError, type GcAttachment, type IpamConf, type NetConf, type Result } from '../../types';
import {
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
  kernelError,
  linkInfo,
  netnsExists,
  rollback,
} from '../common/iface';
import { hostEnds, ipOf, podAddresses, POD_GATEWAY, POD_GATEWAY6, wireL3Pod } from '../common/l3-pod';
import { forwardingSysctls } from '../common/forwarding';
import { bigTcpConf, checkBigTcp } from '../common/big-tcp';
import { ipJson } from '../../../lib/netns';

export interface CalicoConf {
  readonly cniVersion: string;
  readonly name: string;
  /** Default: 1500 (calico-vxlan: underlay − 50). */
  readonly mtu: number;
  /** BIG TCP's sizes on the pod's veth, both ends (common/big-tcp.ts). Default: false. */
  readonly bigTcp: boolean;
  readonly ipam: IpamConf;
  readonly raw: NetConf;
}

export function parseCalicoConfig(stdin: string): CalicoConf {
  const o = parseJson(stdin);
  return {
    cniVersion: str(o, 'cniVersion', 'cniVersion'),
    name: str(o, 'name', 'name'),
    mtu: int(o, 'mtu', 'mtu', 68, 65535) ?? 1500,
    bigTcp: bigTcpConf(o),
    ipam: ipamConf({ ipam: ipamOf(o) }),
    raw: o as unknown as NetConf,
  };
}

/** This node's setting (the plugin runs in the node's namespace), e.g. `net/ipv4/conf/caliX/proxy_arp`. */
function sysctl(path: string, value: string): void {
  try {
    writeFileSync(`/proc/sys/${path}`, value);
  } catch (e) {
    throw new CniError(CniCode.KERNEL_OPERATION, `calico: cannot set ${path.replaceAll('/', '.')}: ${String(e)}`);
  }
}

async function add(conf: CalicoConf, env: PluginEnv): Promise<Result> {
  const ns = containerNetns(env);
  const undo: (() => Promise<unknown>)[] = [];
  try {
    const ipamResult = await ipamAdd(conf, env);
    undo.push(() => ipamDel(conf, env));
    const ips = podAddresses('calico', ipamResult, { ipv6: true });
    const v4 = ips.some((a) => !a.address.includes(':'));
    const v6 = ips.some((a) => a.address.includes(':'));
    for (const [path, value] of forwardingSysctls(ips.filter((a) => a.address.includes(':')))) sysctl(path, value);
    const pod = await wireL3Pod(
      {
        network: conf.name,
        prefix: 'cali',
        mtu: conf.mtu,
        ns,
        env,
        ips,
        ipamRoutes: ipamResult.routes,
        staticGateway: false,
        bigTcp: conf.bigTcp,
        beforeUp: (dev) => {
          // before the link is up, so the pod's first ARP is answered
          if (!v4) return;
          sysctl(`net/ipv4/conf/${dev}/proxy_arp`, '1');
          sysctl(`net/ipv4/neigh/${dev}/proxy_delay`, '0');
        },
      },
      undo,
      (name) => deleteLink(undefined, name),
    );
    return {
      cniVersion: conf.cniVersion,
      interfaces: [
        { name: pod.hostVeth, mac: pod.hostMac },
        { name: env.ifName, mac: pod.contMac, sandbox: env.netns },
      ],
      ips,
      routes: [
        ...(v4 ? [{ dst: '0.0.0.0/0', gw: POD_GATEWAY }] : []),
        ...(v6 ? [{ dst: '::/0', gw: POD_GATEWAY6 }] : []),
      ],
      dns: conf.raw.dns ?? {},
    };
  } catch (e) {
    await rollback(undo);
    throw kernelError('calico ADD', e);
  }
}

async function del(conf: CalicoConf, env: PluginEnv): Promise<void> {
  const ns = netnsExists(env);
  if (ns) await deleteLink(ns, env.ifName);
  for (const e of await hostEnds(conf.name))
    if (e.key === `${env.containerId}/${env.ifName}`) await deleteLink(undefined, e.link.ifname);
  await ipamDel(conf, env);
}

async function check(conf: CalicoConf, env: PluginEnv, prev: Result): Promise<void> {
  const ns = containerNetns(env);
  await ipamPass(conf, 'CHECK', env);
  const cont = await checkContainerSide(ns, env, prev, 'veth');
  if (cont.mtu !== conf.mtu) throw differs(`${env.ifName} has MTU ${cont.mtu}, the configuration says ${conf.mtu}`);
  const host = (prev.interfaces ?? []).find((i) => !i.sandbox);
  if (!host) throw differs('prevResult has no host-side interface');
  const link = await linkInfo(undefined, host.name);
  if (!link) throw differs(`the host end ${host.name} does not exist`);
  if (conf.bigTcp) {
    checkBigTcp(ns, [env.ifName]);
    checkBigTcp(undefined, [host.name]);
  }
  const routes = [
    ...(await ipJson<{ dst: string }[]>(undefined, ['route', 'show', 'dev', host.name])),
    ...(await ipJson<{ dst: string }[]>(undefined, ['-6', 'route', 'show', 'dev', host.name])),
  ];
  for (const a of prev.ips ?? [])
    if (!routes.some((r) => r.dst === ipOf(a.address)))
      throw differs(`the node has no route to ${ipOf(a.address)} on ${host.name}`);
}

async function status(conf: CalicoConf, env: PluginEnv): Promise<void> {
  await ipamPass(conf, 'STATUS', env);
}

async function gc(conf: CalicoConf, env: PluginEnv, valid: readonly GcAttachment[]): Promise<void> {
  await ipamPass(conf, 'GC', env, valid);
  const keys = attachmentKeys(valid);
  for (const e of await hostEnds(conf.name)) if (!keys.has(e.key)) await deleteLink(undefined, e.link.ifname);
}

export const calicoPlugin: CniPlugin<CalicoConf> = { parseConfig: parseCalicoConfig, add, del, check, status, gc };
