/**
 * The node agent (flanneld's role), one per compute node, inside the node's namespace: takes a
 * subnet lease from the control node, sets up its backend, writes subnet.env, renews the lease
 * before it expires, and follows the other leases, keeping the kernel's peer state equal to them.
 * A restarted agent renews the same lease and converges without disturbing what is already right.
 */
import { mkdirSync } from 'node:fs';
import { writeFileAtomic } from '../../lib/fs';
import { join } from 'node:path';
import { formatAddr, formatIPv4, parseCidr, parsePrefix } from '../../lib/ip';
import { CnilabError, messageOf } from '../../lib/errors';
import { sleep } from '../../lib/exec';
import { call, follow, untilUp } from '../../node/client';
import { underlay } from '../../node/underlay';
import { wireCompatible } from '../subnet/lease-store';
import { hasIPv4, hasIPv6, type Lease, type NetworkConfig } from '../subnet/model';
import type { BackendNetwork } from '../backends/backend';
import { backends } from '../backends';
import { writeSubnetEnv, type SubnetEnv } from '../../cni/plugins/flannel/subnet-env';
import { VXLAN6_DEV, VXLAN_DEV } from '../backends/vxlan';

export interface AgentOptions {
  /** Base URL of the lease store, e.g. http://198.18.0.1:2379. */
  readonly store: string;
  readonly node: string;
  /** Underlay interface. Default: eth0. */
  readonly iface?: string;
  /** Where subnet.env, agent.json and datapath.json are written. */
  readonly runDir: string;
  /** The node's credential file for the controller (lib/credential.ts); read at each request. Default: none. */
  readonly credential?: string;
  /**
   * Run this backend instead of the network's, when both put the same packets on the wire
   * (udp and udp-offload): how a mixed cluster, or a node not yet upgraded, is tested.
   */
  readonly backend?: string;
  /** A data path run beside the backend's (the ebpf architectures bring theirs). */
  readonly datapath?: DatapathHook;
  readonly log?: (line: string) => void;
}

/**
 * Starts a data path beside the backend's, once the node's lease is configured and before
 * subnet.env is written: the plugins need it ready, and subnet.env's appearing is their signal.
 * What it keeps doing afterwards, `running`, settles when `signal` aborts.
 */
export type DatapathHook = (
  ctx: {
    /** The underlay device. */
    readonly iface: string;
    /** The backend's tunnel devices, when it has them (vxlan: flannel.1, and flannel-v6.1 with IPv6 on). */
    readonly tunnels?: readonly string[];
    readonly log: (line: string) => void;
  },
  signal: AbortSignal,
) => Promise<{ readonly running: Promise<void> }>;

/** What the agent reports in RUN_DIR/agent.json after every sync. */
export interface AgentStatus {
  readonly node: string;
  readonly pid: number;
  /** Its IPv4 subnet; absent with IPv4 off. */
  readonly subnet?: string;
  /** Its IPv6 subnet, with IPv6 on. */
  readonly ipv6Subnet?: string;
  readonly index: number;
  readonly peers: readonly string[];
  readonly syncedAt: string;
}

export async function runAgent(opts: AgentOptions, signal: AbortSignal): Promise<void> {
  const log = opts.log ?? (() => undefined);
  const iface = opts.iface ?? 'eth0';
  mkdirSync(opts.runDir, { recursive: true });

  const auth = opts.credential ? { credential: opts.credential } : {};
  const config = await untilUp(() => call<NetworkConfig>(`${opts.store}/v1/config`, { signal, ...auth }), {
    signal,
  });
  const type = opts.backend ?? config.backend.type;
  if (!wireCompatible(config.backend.type, type))
    throw new CnilabError(
      'INVALID_INPUT',
      `--backend ${type}: does not interoperate with the network's backend ${config.backend.type}`,
    );
  const u = await underlay(iface);
  const v6 = hasIPv6(config);
  if (v6 && !u.ip6)
    throw new CnilabError('AGENT_FAILED', `underlay interface ${iface} has no IPv6 address; the network has IPv6 on`);
  const network = await backends.get(type)({
    networkConfig: config,
    iface,
    publicIp: u.ip,
    underlayCidr: u.cidr,
    ...(v6 ? { publicIpv6: u.ip6!, underlayCidr6: u.cidr6! } : {}),
    underlayMtu: u.mtu,
    runDir: opts.runDir,
  });
  const acquire = (): Promise<Lease> =>
    call<Lease>(`${opts.store}/v1/leases/${opts.node}`, {
      method: 'PUT',
      body: {
        publicIp: u.ip,
        ...(v6 ? { publicIpv6: u.ip6 } : {}),
        backendType: type,
        backendData: network.backendData,
      },
      signal,
      ...auth,
    });
  // Retried as the first call: the controller may be restarting while this node joins.
  const lease = await untilUp(acquire, { signal });
  await network.configure(lease);
  const tunnels = [...(hasIPv4(config) ? [VXLAN_DEV] : []), ...(v6 ? [VXLAN6_DEV] : [])];
  const extra = await opts.datapath?.({ iface, ...(type === 'vxlan' ? { tunnels } : {}), log }, signal);
  writeSubnetEnv(join(opts.runDir, 'subnet.env'), subnetEnvOf(config, lease, network.mtu));
  log(
    `lease ${describeLease(lease)} via ${u.ip}${v6 ? ` and ${u.ip6}` : ''} until ${lease.expiresAt} (backend ${type}, pod MTU ${network.mtu})`,
  );

  const timers = [
    renewLoop(lease, acquire, log, signal),
    statsLoop(network, join(opts.runDir, 'datapath.json'), signal),
    ...(extra ? [extra.running] : []),
  ];
  await watchLoop(opts, lease, network, log, signal);
  await Promise.allSettled(timers);
}

/** subnet.env for `lease`: each family's network and the node's subnet as its gateway address (the subnet's first). */
export function subnetEnvOf(config: NetworkConfig, lease: Lease, mtu: number): SubnetEnv {
  const v4 = lease.subnet === undefined ? undefined : parseCidr(lease.subnet);
  const v6 = lease.ipv6Subnet === undefined ? undefined : parsePrefix(lease.ipv6Subnet)!;
  return {
    ...(v4 ? { network: config.network, subnet: `${formatIPv4(v4.base + 1)}/${v4.prefix}` } : {}),
    ...(v6
      ? {
          ipv6Network: config.ipv6Network!,
          ipv6Subnet: `${formatAddr({ family: 6, value: v6.base + 1n })}/${v6.length}`,
        }
      : {}),
    mtu,
    ipMasq: false,
  };
}

const describeLease = (l: Lease): string => [l.subnet, l.ipv6Subnet].filter((s) => s !== undefined).join(' and ');

/** Renews halfway to expiry; a renewal that comes back with another subnet means the lease was lost. */
async function renewLoop(
  first: Lease,
  acquire: () => Promise<Lease>,
  log: (l: string) => void,
  signal: AbortSignal,
): Promise<void> {
  let lease = first;
  while (!signal.aborted) {
    const wait = Math.max(200, (Date.parse(lease.expiresAt) - Date.now()) / 2);
    try {
      await sleep(wait, signal);
      const renewed = await acquire();
      if (describeLease(renewed) !== describeLease(lease))
        throw new CnilabError(
          'AGENT_FAILED',
          `lease lost: renewal returned ${describeLease(renewed)} instead of ${describeLease(lease)}`,
        );
      lease = renewed;
    } catch (e) {
      if (signal.aborted) return;
      if (e instanceof CnilabError && e.code === 'AGENT_FAILED' && e.message.startsWith('lease lost')) throw e;
      log(`renewal failed, retrying: ${messageOf(e)}`);
      lease = { ...lease, expiresAt: new Date(Date.now() + 2000).toISOString() }; // try again in about a second
    }
  }
}

/** Follows the store and syncs the backend to every lease but our own. */
function watchLoop(
  opts: AgentOptions,
  own: Lease,
  network: BackendNetwork,
  log: (l: string) => void,
  signal: AbortSignal,
): Promise<void> {
  return follow<{ index: number; leases: Lease[] }>({
    url: `${opts.store}/v1/leases`,
    signal,
    log,
    ...(opts.credential ? { credential: opts.credential } : {}),
    apply: async (snap) => {
      const peers = snap.leases.filter((l) => l.node !== opts.node);
      await network.sync(peers);
      const status: AgentStatus = {
        node: opts.node,
        pid: process.pid,
        ...(own.subnet ? { subnet: own.subnet } : {}),
        ...(own.ipv6Subnet ? { ipv6Subnet: own.ipv6Subnet } : {}),
        index: snap.index,
        peers: peers.map((p) => p.node),
        syncedAt: new Date().toISOString(),
      };
      writeFileAtomic(join(opts.runDir, 'agent.json'), JSON.stringify(status));
      log(`synced index ${snap.index}: peers ${status.peers.join(', ') || '(none)'}`);
    },
  });
}

/** A user-space data path's counters, written ten times a second while they change (cheap: one small file). */
async function statsLoop(network: BackendNetwork, file: string, signal: AbortSignal): Promise<void> {
  if (!network.stats) return;
  let last = '';
  while (!signal.aborted) {
    const text = JSON.stringify({ pid: process.pid, device: network.datapathDevice, ...network.stats() });
    if (text !== last) writeFileAtomic(file, text);
    last = text;
    await sleep(100, signal).catch(() => undefined);
  }
}
