/**
 * Calico's WireGuard mode, as Felix programs it: the device `wireguard.cali` (UDP 51820, MTU
 * underlay − 60: outer IPv4 20 + UDP 8 + WireGuard 32), its packets marked 0x100000; a routing rule
 * at priority 99 sends every unmarked packet to table 1, where each peer's blocks and WireGuard
 * address lead into the device — so pod packets to other nodes enter the tunnel, and the tunnel's
 * own (marked) packets take the main table out of eth0. Each peer node is a WireGuard peer: its
 * published key, its underlay address, its blocks and device address as allowed IPs.
 *
 *   pod ─ caliX ⟶(rule 99: table 1, BLOCK dev wireguard.cali)⟶ [WireGuard/UDP 51820, mark] ⟶ eth0 ══ switch ══ …
 */
import { join } from 'node:path';
import { messageOf } from '../../lib/errors';
import { ip, ipBatch, ipJson, type NetnsRef } from '../../lib/netns';
import { ROUTE_PROTO } from '../../node/routes';
import { nodeKey, WG_PORT, WgDevice, type NodeKey, type WgPeer } from '../../node/wireguard';
import type { CalicoNode, IpamState } from '../ipam/store';

export const CALICO_WG_DEV = 'wireguard.cali';
/** Outer IPv4 20 + UDP 8 + WireGuard's header and tag 32: Calico's IPv4 figure. */
export const CALICO_WG_OVERHEAD = 60;
/** Felix's defaults: the device's mark, the routing table and the rule's priority. */
export const CALICO_WG_MARK = 0x100000;
export const CALICO_WG_TABLE = 1;
export const CALICO_WG_RULE_PRIORITY = 99;

/** The node's key, made at its first start in its folder, kept across restarts. */
export const calicoWgKey = (runDir: string): NodeKey => nodeKey(join(runDir, 'wireguard'));

/** The device, up, with the rule that sends unmarked packets to table 1. */
export async function calicoWgDevice(runDir: string, key: NodeKey, underlayMtu: number): Promise<WgDevice> {
  const device = await WgDevice.ensure({
    name: CALICO_WG_DEV,
    dir: join(runDir, 'wireguard'),
    key,
    port: WG_PORT,
    mtu: underlayMtu - CALICO_WG_OVERHEAD,
    fwmark: CALICO_WG_MARK,
  });
  const rules = await ipJson<{ priority?: number; table?: string }[]>(undefined, ['rule', 'show']);
  if (!rules.some((r) => r.priority === CALICO_WG_RULE_PRIORITY && r.table === String(CALICO_WG_TABLE)))
    await ip(undefined, [
      'rule',
      'add',
      'not',
      'fwmark',
      `0x${CALICO_WG_MARK.toString(16)}/0x${CALICO_WG_MARK.toString(16)}`,
      'lookup',
      String(CALICO_WG_TABLE),
      'priority',
      String(CALICO_WG_RULE_PRIORITY),
    ]);
  return device;
}

/** The routes of `table` in `ns` (none while the table does not exist: the kernel makes it with its first route). */
export async function tableRoutes(
  ns: NetnsRef | undefined,
  table: number | 'main',
  filter: readonly string[] = [],
): Promise<{ dst: string; type?: string; dev?: string }[]> {
  try {
    return await ipJson(ns, ['route', 'show', 'table', String(table), ...filter]);
  } catch (e) {
    if (/FIB table does not exist/.test(messageOf(e))) return [];
    throw e;
  }
}

/** Each peer with a key as a WireGuard peer: its blocks and its device's address are what it may send from. */
export function calicoWgPeers(state: IpamState, peers: readonly CalicoNode[]): WgPeer[] {
  return peers
    .filter((p): p is CalicoNode & { wireguardPublicKey: string } => p.wireguardPublicKey !== undefined)
    .map((p) => ({
      publicKey: p.wireguardPublicKey,
      endpoint: `${p.ip}:${WG_PORT}`,
      allowedIps: [
        ...state.blocks.filter((b) => b.node === p.name).map((b) => b.cidr),
        ...(p.wireguardIp ? [`${p.wireguardIp}/32`] : []),
      ],
    }));
}

/** The device's peers and table 1's routes, both exactly what `state` says of the other nodes. */
export async function syncCalicoWg(device: WgDevice, state: IpamState, peers: readonly CalicoNode[]): Promise<void> {
  const wanted = calicoWgPeers(state, peers);
  await device.syncPeers(wanted);
  const dsts = wanted.flatMap((p) => p.allowedIps);
  const have = (await tableRoutes(undefined, CALICO_WG_TABLE, ['proto', ROUTE_PROTO])).map((r) =>
    r.dst.includes('/') ? r.dst : `${r.dst}/32`,
  );
  const table = ['table', String(CALICO_WG_TABLE), 'proto', ROUTE_PROTO];
  await ipBatch(
    undefined,
    have.filter((d) => !dsts.includes(d)).map((d) => ['route', 'del', d, ...table]),
    { force: true },
  );
  await ipBatch(
    undefined,
    dsts
      .filter((d) => !have.includes(d))
      .map((d) => ['route', 'replace', d, 'dev', CALICO_WG_DEV, 'scope', 'link', ...table]),
  );
}
