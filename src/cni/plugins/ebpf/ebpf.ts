/**
 * `ebpf`: a pod on a veth with no bridge, whose packets the node's eBPF programs carry (Cilium's
 * "eBPF host routing"; src/ebpf/bpf/datapath.c). The node agent has loaded and pinned the programs
 * and maps in the lab's bpffs (`bpfDir`); this plugin wires one pod into them:
 *
 *   container eth0 10.244.1.5/32 ──veth── lxcXXXXXXXX (no address) ── from_pod on its tc ingress
 *   container: 169.254.1.1 dev eth0 scope link; default via 169.254.1.1; 169.254.1.1 → the host
 *              end's MAC as a permanent neighbour entry, so the pod never ARPs for its gateway
 *   node:      10.244.1.5 dev lxcXXXXXXXX scope link (for the node's own traffic and the stack's
 *              fallback); endpoints[10.244.1.5] = { lxc's ifindex, eth0's MAC, lxc's MAC }
 *
 * IPv6 (IPAM gives an IPv6 address: IPv6-only, or dual-stack with both): the same, in the style of
 * common/l3-pod.ts — the pod's address a /128 (no DAD unless `enabledad`), its default
 * route via fe80::ecee:eeff:feee:eeee, which the host end holds and the pod knows as a permanent
 * neighbour entry for the host end's MAC; the node a /128 route to lxcXXXXXXXX; the endpoint in
 * endpoints6, keyed by the 16-byte address.
 *
 * `device: "netkit"` (ebpf-netkit): the pair is a netkit pair in L3 mode instead of a veth (made
 * over netlink: lib/netlink/netkit.ts), with no MACs and no ARP; instead of from_pod on the host
 * end's tc ingress, from_netkit is the pair's own program for what the pod sends (BPF_NETKIT_PEER,
 * attached through the host end with BPF_LINK_CREATE), its link pinned at links/<host end> in the
 * node's folder of the lab's bpffs, so it outlives this process. DEL, GC and `cnilab down` remove
 * the pin with the pair.
 *
 * A packet the pod sends meets from_pod at the host end, which hands it to another local pod's
 * eth0 (bpf_redirect_peer) or to the route's device (bpf_redirect / bpf_redirect_neigh); a packet
 * for the pod coming in from the underlay or the tunnel meets from_netdev / from_tunnel, which
 * hand it straight to this pod's eth0. DEL removes the endpoint, the veth (its filter and route go
 * with it) and the address; GC removes endpoints and veths of attachments the runtime no longer has.
 */
import { closeSync, existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { BPF_NETKIT_PEER, BpfMap, linkCreate, netkitLinkInfo, objGet, objPin, progId } from '../../../lib/bpf';
import { withRtnl } from '../../../lib/netlink/rtnl';
import { attachBpf, listFilters } from '../../../lib/netlink/tc';
import { parseJson, type CniPlugin, type PluginEnv } from '../../skel';
import { bool, int, oneOf, str } from '../../validate';
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
import { bigTcpConf, checkBigTcp } from '../common/big-tcp';
import { decodeEndpoint, encodeEndpoint, endpointSlot, ENDPOINT_SIZE, pins, readEndpoints } from './maps';

export interface EbpfConf {
  readonly cniVersion: string;
  readonly name: string;
  /** Default: 1500. */
  readonly mtu: number;
  /** The node's folder in the lab's bpffs, where its agent pinned progs/ and maps/. */
  readonly bpfDir: string;
  /** `enabledad` (the bridge plugin's name): DAD on the pod's IPv6 addresses. Default: false (nodad). */
  readonly enableDad: boolean;
  /** The pod's pair: a veth (default), or a netkit pair in L3 mode (Linux 6.7+). */
  readonly device: 'veth' | 'netkit';
  /** BIG TCP's sizes on the pod's devices, both ends (common/big-tcp.ts). Default: false. */
  readonly bigTcp: boolean;
  readonly ipam: IpamConf;
  readonly raw: NetConf;
}

export function parseEbpfConfig(stdin: string): EbpfConf {
  const o = parseJson(stdin);
  const bpfDir = str(o, 'bpfDir', 'bpfDir');
  if (!bpfDir.startsWith('/'))
    throw new CniError(
      CniCode.INVALID_CONFIG,
      'bpfDir: must be an absolute path (the node agent pins its programs there)',
    );
  return {
    cniVersion: str(o, 'cniVersion', 'cniVersion'),
    name: str(o, 'name', 'name'),
    mtu: int(o, 'mtu', 'mtu', 68, 65535) ?? 1500,
    bpfDir,
    enableDad: bool(o, 'enabledad', 'enabledad', false),
    device: oneOf(o, 'device', 'device', ['veth', 'netkit'] as const, 'veth'),
    bigTcp: bigTcpConf(o),
    ipam: ipamConf({ ipam: ipamOf(o) }),
    raw: o as unknown as NetConf,
  };
}

/** The data path this plugin needs on the node: its agent's pinned programs and maps (endpoints6 with `ipv6`). */
function loaded(conf: EbpfConf, ipv6 = false): ReturnType<typeof pins> {
  const p = pins(conf.bpfDir);
  for (const f of [p.progs[podProgram(conf)], p.endpoints, ...(ipv6 ? [p.endpoints6] : [])])
    if (!existsSync(f))
      throw new CniError(
        CniCode.NOT_AVAILABLE,
        `the eBPF data path is not loaded on this node (nothing pinned at ${f}): is the node agent running?`,
      );
  return p;
}

/** The program that takes what the pod sends: from_pod on a veth's host end, a netkit pair's from_netkit. */
const podProgram = (conf: EbpfConf): 'from_pod' | 'from_netkit' =>
  conf.device === 'netkit' ? 'from_netkit' : 'from_pod';

/** Where the BPF link of a netkit pair's program is pinned: links/<host end> in the node's folder. */
const linkPin = (conf: EbpfConf, hostEnd: string): string => join(conf.bpfDir, 'links', hostEnd);

/**
 * Attaches what the pod sends to its program: from_pod on the veth host end's tc ingress, or
 * from_netkit as the netkit pair's peer program, its link pinned (an attachment pinned nowhere
 * would end with this process).
 */
function attachPod(conf: EbpfConf, p: ReturnType<typeof pins>, hostEnd: string): number {
  return withRtnl(undefined, (nl) => {
    const index = nl.index(hostEnd);
    const prog = objGet(p.progs[podProgram(conf)]);
    try {
      if (conf.device === 'veth') {
        attachBpf(nl, index, hostEnd, 'ingress', prog, 'from_pod');
        return index;
      }
      const link = linkCreate(prog, index, BPF_NETKIT_PEER, `attach from_netkit to ${hostEnd}`);
      try {
        mkdirSync(join(conf.bpfDir, 'links'), { recursive: true });
        objPin(link, linkPin(conf, hostEnd));
      } finally {
        closeSync(link);
      }
      return index;
    } finally {
      closeSync(prog);
    }
  });
}

/**
 * Unpins the links of netkit pairs that are gone (a pair deleted leaves its link pinned, attached to
 * nothing). A pair being made has its host end before its pin, so no pin of a pair in the making is
 * ever taken for a stale one.
 */
function dropStaleLinks(conf: EbpfConf): void {
  const dir = join(conf.bpfDir, 'links');
  if (!existsSync(dir)) return;
  const names = new Set(withRtnl(undefined, (nl) => nl.links()).map((l) => l.ifname));
  for (const name of readdirSync(dir)) if (!names.has(name)) rmSync(join(dir, name), { force: true });
}

async function add(conf: EbpfConf, env: PluginEnv): Promise<Result> {
  const ns = containerNetns(env);
  const p = loaded(conf);
  const undo: (() => Promise<unknown>)[] = [];
  try {
    const ipamResult = await ipamAdd(conf, env);
    undo.push(() => ipamDel(conf, env));
    const ips = podAddresses('ebpf', ipamResult, { ipv6: true });
    const v4 = ips.some((a) => !a.address.includes(':'));
    const v6 = ips.some((a) => a.address.includes(':'));
    if (v6) loaded(conf, true);
    const { hostVeth, hostMac, contMac } = await wireL3Pod(
      {
        network: conf.name,
        prefix: 'lxc',
        mtu: conf.mtu,
        ns,
        env,
        ips,
        ipamRoutes: ipamResult.routes,
        staticGateway: true,
        dad: conf.enableDad,
        device: conf.device,
        bigTcp: conf.bigTcp,
      },
      undo,
      (name) => deleteLink(undefined, name),
    );
    if (conf.device === 'netkit') undo.push(async () => rmSync(linkPin(conf, hostVeth), { force: true }));
    const ifindex = attachPod(conf, p, hostVeth);
    // each address in its family's map (dual-stack: one in each)
    for (const a of ips) {
      const slot = endpointSlot(p, ipOf(a.address));
      undo.push(async () => BpfMap.with(slot.map, (m) => m.delete(slot.key)));
      BpfMap.with(slot.map, (m) => m.update(slot.key, encodeEndpoint({ ifindex, mac: contMac, nodeMac: hostMac })));
    }
    return {
      cniVersion: conf.cniVersion,
      interfaces: [
        { name: hostVeth, mac: hostMac },
        { name: env.ifName, mac: contMac, sandbox: env.netns },
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
    throw kernelError('ebpf ADD', e);
  }
}

/**
 * Removes endpoints of both families whose host end is not among `keep` (ifindexes); a map not
 * pinned (the lab's data path gone) leaves nothing to remove.
 */
function dropEndpoints(conf: EbpfConf, keep: ReadonlySet<number>): void {
  const p = pins(conf.bpfDir);
  for (const [map, family] of [
    [p.endpoints, 4],
    [p.endpoints6, 6],
  ] as const) {
    if (!existsSync(map)) continue;
    BpfMap.with(map, (m) => {
      for (const [ip, e] of readEndpoints(m, family)) if (!keep.has(e.ifindex)) m.delete(endpointSlot(p, ip).key);
    });
  }
}

async function del(conf: EbpfConf, env: PluginEnv): Promise<void> {
  const ends = await hostEnds(conf.name);
  const mine = ends.filter((e) => e.key === `${env.containerId}/${env.ifName}`);
  // its endpoints first (and any whose veth is gone), so no packet is sent to a veth being deleted
  dropEndpoints(conf, new Set(ends.filter((e) => !mine.includes(e)).map((e) => e.link.ifindex)));
  const ns = netnsExists(env);
  // (a netkit pair's pod end goes with its host end: deleting it first is the veth's order)
  if (ns) await deleteLink(ns, env.ifName);
  for (const e of mine) await deleteLink(undefined, e.link.ifname);
  dropStaleLinks(conf);
  await ipamDel(conf, env);
}

async function check(conf: EbpfConf, env: PluginEnv, prev: Result): Promise<void> {
  const ns = containerNetns(env);
  await ipamPass(conf, 'CHECK', env);
  const cont = await checkContainerSide(ns, env, prev, conf.device);
  if (cont.mtu !== conf.mtu) throw differs(`${env.ifName} has MTU ${cont.mtu}, the configuration says ${conf.mtu}`);
  const host = (prev.interfaces ?? []).find((i) => !i.sandbox);
  if (!host) throw differs('prevResult has no host-side interface');
  const link = await linkInfo(undefined, host.name);
  if (!link) throw differs(`the host end ${host.name} does not exist`);
  if (conf.device === 'veth') {
    const filters = withRtnl(undefined, (nl) => listFilters(nl, link.ifindex, 'ingress'));
    if (!filters.some((f) => f.kind === 'bpf' && f.name === 'from_pod' && f.directAction))
      throw differs(`the host end ${host.name} has no from_pod program on its tc ingress`);
  }
  if (conf.bigTcp) {
    checkBigTcp(ns, [env.ifName]);
    checkBigTcp(undefined, [host.name]);
  }
  const p = loaded(
    conf,
    (prev.ips ?? []).some((a) => a.address.includes(':')),
  );
  if (conf.device === 'netkit') checkNetkitLink(conf, p, host.name, env.ifName, cont.ifindex);
  for (const a of prev.ips ?? []) {
    const slot = endpointSlot(p, ipOf(a.address));
    BpfMap.with(slot.map, (m) => {
      const v = m.lookup(slot.key, ENDPOINT_SIZE);
      if (!v) throw differs(`no endpoint for ${ipOf(a.address)} in ${slot.map}`);
      const e = decodeEndpoint(v);
      if (
        e.ifindex !== link.ifindex ||
        e.mac !== cont.address.toLowerCase() ||
        e.nodeMac !== link.address.toLowerCase()
      )
        throw differs(
          `the endpoint of ${ipOf(a.address)} is {ifindex ${e.ifindex}, ${e.mac}, ${e.nodeMac}}, the pod's veth ` +
            `is {ifindex ${link.ifindex}, ${cont.address}, ${link.address}}`,
        );
    });
  }
}

/**
 * That the netkit pair of `hostEnd` runs from_netkit for its pod end, through the link pinned for
 * it. A peer program's link names the device it runs for: the pod's end (`podIf`, index `ifindex`
 * in the pod's namespace), not the primary it was attached through.
 */
function checkNetkitLink(
  conf: EbpfConf,
  p: ReturnType<typeof pins>,
  hostEnd: string,
  podIf: string,
  ifindex: number,
): void {
  const pin = linkPin(conf, hostEnd);
  if (!existsSync(pin)) throw differs(`no BPF link is pinned for ${hostEnd} (${pin})`);
  const link = objGet(pin);
  const prog = objGet(p.progs.from_netkit);
  try {
    const info = netkitLinkInfo(link);
    const want = progId(prog);
    if (info.ifindex !== ifindex || info.attachType !== BPF_NETKIT_PEER || info.progId !== want)
      throw differs(
        `the link pinned for ${hostEnd} runs program ${info.progId} for ifindex ${info.ifindex} ` +
          `(attach type ${info.attachType}); from_netkit is ${want}, the pod's ${podIf} is ${ifindex}, ` +
          `a peer program's type ${BPF_NETKIT_PEER}`,
      );
  } finally {
    closeSync(link);
    closeSync(prog);
  }
}

async function status(conf: EbpfConf, env: PluginEnv): Promise<void> {
  loaded(conf);
  await ipamPass(conf, 'STATUS', env);
}

async function gc(conf: EbpfConf, env: PluginEnv, valid: readonly GcAttachment[]): Promise<void> {
  await ipamPass(conf, 'GC', env, valid);
  const keys = attachmentKeys(valid);
  const ends = await hostEnds(conf.name);
  dropEndpoints(conf, new Set(ends.filter((e) => keys.has(e.key)).map((e) => e.link.ifindex)));
  for (const e of ends) if (!keys.has(e.key)) await deleteLink(undefined, e.link.ifname);
  dropStaleLinks(conf);
}

export const ebpfPlugin: CniPlugin<EbpfConf> = { parseConfig: parseEbpfConfig, add, del, check, status, gc };
