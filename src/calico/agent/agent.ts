/**
 * The calico node agent (Felix's role, with confd's for BIRD), one per compute node, inside the
 * node's namespace. It registers the node with the control node's IPAM API (underlay address; in
 * vxlan mode also its VXLAN device's MAC and tunnel address), then follows the API's state and
 * keeps the node equal to it:
 *   - a blackhole route per block affine to this node (an unheld address is dropped here);
 *   - bgp mode: bird.conf — a full mesh to the other nodes, this node's blocks announced — and
 *     `birdc configure` when it changes (BIRD itself puts the peers' blocks in the kernel); with an
 *     IPv6 pool, IPv6 forwarding on and a second mesh over the IPv6 underlay for the IPv6 blocks
 *     (../bird.ts);
 *   - vxlan mode: per peer, its blocks via its tunnel address on `vxlan.calico` (onlink), that
 *     address's MAC as a permanent neighbour, and the MAC's underlay address in the FDB;
 *   - ipip mode: the kernel's IP-in-IP device `tunl0` up (MTU underlay − 20) with a tunnel
 *     address, and BGP as in bgp mode, BIRD putting the peers' blocks in the kernel via their
 *     underlay addresses on `tunl0` (onlink);
 *   - with WireGuard (any mode; calico-wireguard is bgp's): `wireguard.cali`, its peers and its
 *     routing table (./wireguard.ts), the node's public key registered with its address.
 * Every change is computed against what the kernel holds, so a restarted agent disturbs nothing.
 * Pods' own /32 routes are the CNI plugin's.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../../lib/fs';
import { CnilabError, messageOf } from '../../lib/errors';
import { ip, ipBatch, ipJson } from '../../lib/netns';
import { VXLAN_OVERHEAD, IANA_VXLAN_PORT } from '../../lib/vxlan';
import { call, follow, untilUp } from '../../node/client';
import { underlay } from '../../node/underlay';
import { enableForwarding, ROUTE_PROTO, syncVxlanPeers } from '../../node/routes';
import { POD_GATEWAY } from '../../cni/plugins/common/l3-pod';
import type { CalicoMode, CalicoNode, IpamState } from '../ipam/store';
import { birdc, birdConfig, birdPaths } from '../bird';
import { CALICO_IPIP_DEV, IPIP_OVERHEAD } from '../tunnels';
import type { WgDevice } from '../../node/wireguard';
import { CALICO_WG_DEV, calicoWgDevice, calicoWgKey, syncCalicoWg } from './wireguard';

export const CALICO_VXLAN_DEV = 'vxlan.calico';
/** Calico's VXLAN network identifier (its default), on IANA's port. */
export const CALICO_VNI = 4096;

export interface CalicoAgentOptions {
  /** Base URL of the IPAM API, e.g. http://198.18.0.1:2379. */
  readonly store: string;
  readonly node: string;
  readonly iface: string;
  /** bird.conf, bird.ctl and agent.json go here. */
  readonly runDir: string;
  readonly mode: CalicoMode;
  readonly log: (line: string) => void;
  /** The node's credential file for the controller (lib/credential.ts); read at each request. Default: none. */
  readonly credential?: string;
  /** Calico's WireGuard mode on top of `mode` (./wireguard.ts). */
  readonly wireguard?: boolean;
}

/** What the agent reports in RUN_DIR/agent.json after every sync. */
export interface CalicoAgentStatus {
  readonly node: string;
  readonly pid: number;
  readonly mode: CalicoMode;
  readonly index: number;
  /** This node's blocks. */
  readonly blocks: readonly string[];
  readonly peers: readonly string[];
  readonly syncedAt: string;
}

/** vxlan mode: the node's VXLAN device, up; its MAC. */
async function vxlanDevice(iface: string, local: string, mtu: number): Promise<string> {
  const have = await ipJson<{ address: string }[]>(undefined, ['link', 'show', 'dev', CALICO_VXLAN_DEV]).catch(
    () => [],
  );
  if (have.length === 0)
    await ip(undefined, [
      'link',
      'add',
      CALICO_VXLAN_DEV,
      'type',
      'vxlan',
      'id',
      String(CALICO_VNI),
      'local',
      local,
      'dev',
      iface,
      'dstport',
      String(IANA_VXLAN_PORT),
      'nolearning',
    ]);
  await ip(undefined, ['link', 'set', 'dev', CALICO_VXLAN_DEV, 'mtu', String(mtu - VXLAN_OVERHEAD), 'up']);
  const [link] = await ipJson<{ address: string }[]>(undefined, ['link', 'show', 'dev', CALICO_VXLAN_DEV]);
  return link!.address;
}

/** ipip mode: `tunl0`, up with MTU underlay − 20; creating an ipip device loads the module, which makes it. */
async function ipipDevice(mtu: number): Promise<void> {
  const has = (): Promise<boolean> =>
    ipJson(undefined, ['link', 'show', 'dev', CALICO_IPIP_DEV]).then(
      () => true,
      () => false,
    );
  if (!(await has())) {
    // Loading the module makes tunl0 here (and in every namespace), so this add may find it made: either way, check.
    await ip(undefined, ['link', 'add', 'name', CALICO_IPIP_DEV, 'type', 'ipip'], { check: false });
    if (!(await has()))
      throw new CnilabError('AGENT_FAILED', `${CALICO_IPIP_DEV}: this kernel makes no IP-in-IP device (module ipip)`);
  }
  await ip(undefined, ['link', 'set', 'dev', CALICO_IPIP_DEV, 'mtu', String(mtu - IPIP_OVERHEAD), 'up']);
}

export async function runCalicoAgent(o: CalicoAgentOptions, signal: AbortSignal): Promise<void> {
  mkdirSync(o.runDir, { recursive: true });
  enableForwarding();
  // Proxy ARP answers for the pods' gateway only when the node routes it elsewhere (src/cni/plugins/calico).
  await ip(undefined, ['route', 'replace', `${POD_GATEWAY}/32`, 'dev', 'lo', 'proto', ROUTE_PROTO]);
  const u = await underlay(o.iface);
  const auth = o.credential ? { credential: o.credential } : {};
  // What the node registers grows as its devices come up; its WireGuard key is known from the start.
  const wgKey = o.wireguard ? calicoWgKey(o.runDir) : undefined;
  let own: Partial<CalicoNode> = wgKey ? { wireguardPublicKey: wgKey.publicKey } : {};
  const register = (extra: Partial<CalicoNode> = {}): Promise<CalicoNode> => {
    own = { ...own, ...extra };
    return call<CalicoNode>(`${o.store}/v3/nodes/${o.node}`, {
      method: 'PUT',
      body: { ip: u.ip, ...(u.ip6 ? { ip6: u.ip6 } : {}), ...own },
      signal,
      ...auth,
    });
  };
  // A device's own address from IPAM, under Calico's handle for it: what the node's own traffic to pods leaves
  // with. Retried as the registration (the controller may be restarting while this node joins); the handle makes
  // the assignment idempotent.
  const tunnelAddress = (use: string, dev: string): Promise<string> =>
    untilUp(
      () =>
        call<{ ip: string }>(`${o.store}/v3/ipam/assign`, {
          method: 'POST',
          body: { handle: `${use}-tunnel-addr-${o.node}`, node: o.node },
          signal,
          ...auth,
        }),
      { signal },
    ).then(async (a) => (await ip(undefined, ['addr', 'replace', `${a.ip}/32`, 'dev', dev]), a.ip));
  await untilUp(() => register(), { signal });
  if (o.mode !== 'bgp') {
    const dev = o.mode === 'vxlan' ? CALICO_VXLAN_DEV : CALICO_IPIP_DEV;
    const vtepMac = o.mode === 'vxlan' ? await vxlanDevice(o.iface, u.ip, u.mtu) : await ipipDevice(u.mtu);
    const tunnel = await tunnelAddress(o.mode, dev);
    if (vtepMac) await untilUp(() => register({ vtepMac, vtepIp: tunnel }), { signal });
    o.log(`${dev}: ${vtepMac ? `VNI ${CALICO_VNI}, ${vtepMac}, ` : ''}tunnel address ${tunnel}`);
  }
  let wg: WgDevice | undefined;
  if (wgKey) {
    wg = await calicoWgDevice(o.runDir, wgKey, u.mtu);
    const address = await tunnelAddress('wireguard', CALICO_WG_DEV);
    await untilUp(() => register({ wireguardIp: address }), { signal });
    o.log(`${CALICO_WG_DEV}: ${wg.implementation}, address ${address}, public key ${wgKey.publicKey}`);
  }
  o.log(`registered ${o.node} at ${u.ip} (mode ${o.mode}${wg ? ', WireGuard' : ''})`);
  await watch(o, u, wg, signal);
}

function watch(
  o: CalicoAgentOptions,
  own: { ip: string; ip6?: string },
  wg: WgDevice | undefined,
  signal: AbortSignal,
): Promise<void> {
  return follow<IpamState>({
    url: `${o.store}/v3/state`,
    signal,
    log: o.log,
    ...(o.credential ? { credential: o.credential } : {}),
    apply: async (state) => {
      const peers = state.nodes.filter((n) => n.name !== o.node);
      const blocks = state.blocks.filter((b) => b.node === o.node).map((b) => b.cidr);
      if (state.config.pool6 !== undefined) writeFileSync('/proc/sys/net/ipv6/conf/all/forwarding', '1');
      await syncBlackholes(blocks);
      if (o.mode === 'vxlan') await syncVxlan(state, peers);
      else await syncBird(o, own, blocks, peers);
      if (wg) await syncCalicoWg(wg, state, peers);
      const status: CalicoAgentStatus = {
        node: o.node,
        pid: process.pid,
        mode: o.mode,
        index: state.index,
        blocks,
        peers: peers.map((p) => p.name),
        syncedAt: new Date().toISOString(),
      };
      writeFileAtomic(join(o.runDir, 'agent.json'), JSON.stringify(status));
      o.log(
        `synced index ${state.index}: blocks ${blocks.join(', ') || '(none)'}; peers ` +
          `${status.peers.join(', ') || '(none)'}`,
      );
    },
  });
}

/** Exactly this node's blocks as blackhole routes (tagged with the agent's protocol). */
async function syncBlackholes(blocks: readonly string[]): Promise<void> {
  const show = ['route', 'show', 'type', 'blackhole', 'proto', ROUTE_PROTO];
  const have = [
    ...(await ipJson<{ dst: string }[]>(undefined, show)),
    ...(await ipJson<{ dst: string }[]>(undefined, ['-6', ...show])),
  ].map((r) => r.dst);
  await ipBatch(
    undefined,
    have.filter((d) => !blocks.includes(d)).map((d) => ['route', 'del', 'blackhole', d, 'proto', ROUTE_PROTO]),
    { force: true },
  );
  await ipBatch(
    undefined,
    blocks.filter((b) => !have.includes(b)).map((b) => ['route', 'replace', 'blackhole', b, 'proto', ROUTE_PROTO]),
  );
}

/** vxlan mode: each peer's blocks via its tunnel address on the VXLAN device, as flannel's vxlan does per subnet. */
function syncVxlan(state: IpamState, peers: readonly CalicoNode[]): Promise<void> {
  const vteps = peers.filter((p): p is CalicoNode & { vtepMac: string; vtepIp: string } => !!p.vtepMac && !!p.vtepIp);
  return syncVxlanPeers(CALICO_VXLAN_DEV, {
    routes: state.blocks.flatMap((b) => {
      const p = vteps.find((v) => v.name === b.node);
      return p ? [{ dst: b.cidr, via: p.vtepIp, onlink: true }] : [];
    }),
    neighbours: new Map(vteps.map((p) => [p.vtepIp, p.vtepMac])),
    fdb: new Map(vteps.map((p) => [p.vtepMac, p.ip])),
  });
}

/** bgp and ipip modes: bird.conf for this state; BIRD reloads it when it changed and BIRD is running. */
async function syncBird(
  o: CalicoAgentOptions,
  own: { ip: string; ip6?: string },
  blocks: readonly string[],
  peers: readonly CalicoNode[],
): Promise<void> {
  const paths = birdPaths(o.runDir);
  const text = birdConfig({
    routerId: own.ip,
    ...(own.ip6 ? { ip6: own.ip6 } : {}),
    blocks,
    peers: peers.map((p) => ({ name: p.name, ip: p.ip, ...(p.ip6 ? { ip6: p.ip6 } : {}) })),
    ...(o.mode === 'ipip' ? { tunnel: CALICO_IPIP_DEV } : {}),
  });
  const old = existsSync(paths.config) ? readFileSync(paths.config, 'utf8') : undefined;
  if (old === text) return;
  writeFileAtomic(paths.config, text);
  // Not running yet (its control plane starts it once the first configuration is here): it reads this one.
  if (old !== undefined && existsSync(paths.socket)) {
    const out = await birdc(paths.socket, ['configure']).catch((e: unknown) => `failed: ${messageOf(e)}`);
    o.log(`birdc configure: ${out.trim().split('\n').slice(-1)[0]}`);
  }
}
