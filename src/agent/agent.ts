/**
 * The node agent (flanneld's role), one per compute node, inside the node's namespace: takes a
 * subnet lease from the control node, sets up its backend, writes subnet.env, then follows the
 * leases and keeps the kernel's peer state equal to them.
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatIPv4, parseCidr } from '../lib/cidr';
import { CnilabError, messageOf } from '../lib/errors';
import { sleep } from '../lib/exec';
import { httpJson, type HttpJsonOptions } from '../lib/http-json';
import { ipJson } from '../lib/netns';
import type { Lease, NetworkConfig } from '../controller/lease-store';
import { backends } from './backends';
import { writeSubnetEnv } from './subnet-env';

export interface AgentOptions {
  /** Base URL of the lease store, e.g. http://198.18.0.1:2379. */
  readonly store: string;
  readonly node: string;
  /** Underlay interface. Default: eth0. */
  readonly iface?: string;
  /** Where subnet.env and agent.json are written. */
  readonly runDir: string;
  readonly log?: (line: string) => void;
}

/** What the agent reports in RUN_DIR/agent.json after every sync. */
export interface AgentStatus {
  readonly node: string;
  readonly subnet: string;
  readonly index: number;
  readonly peers: readonly string[];
  readonly syncedAt: string;
}

async function call<T>(url: string, options: HttpJsonOptions = {}): Promise<T> {
  const res = await httpJson<T & { error?: string }>(url, options);
  if (res.status >= 300) throw new CnilabError('AGENT_FAILED', `${options.method ?? 'GET'} ${url}: ${res.status} ${res.body.error ?? ''}`);
  return res.body;
}

async function underlay(iface: string): Promise<{ ip: string; mtu: number }> {
  const [link] = await ipJson<{ mtu: number; addr_info: { family: string; local: string }[] }[]>(undefined, ['addr', 'show', 'dev', iface]);
  const ip = link?.addr_info.find((a) => a.family === 'inet')?.local;
  if (!link || !ip) throw new CnilabError('AGENT_FAILED', `underlay interface ${iface} has no IPv4 address`);
  return { ip, mtu: link.mtu };
}

export async function runAgent(opts: AgentOptions, signal: AbortSignal): Promise<void> {
  const log = opts.log ?? (() => undefined);
  const iface = opts.iface ?? 'eth0';
  mkdirSync(opts.runDir, { recursive: true });

  let config: NetworkConfig | undefined;
  for (let attempt = 0; !config; attempt++) {
    try {
      config = await call<NetworkConfig>(`${opts.store}/v1/config`, { signal });
    } catch (e) {
      if (signal.aborted || attempt > 1500) throw e;
      await sleep(20, signal); // the store is starting at the same moment
    }
  }
  const { ip, mtu } = await underlay(iface);
  const network = await backends.get(config.backend)({ iface, publicIp: ip, underlayMtu: mtu });
  const lease = await call<Lease>(`${opts.store}/v1/leases/${opts.node}`, { method: 'PUT', body: { publicIp: ip, backendData: network.backendData }, signal });
  await network.configure(lease);
  const subnet = parseCidr(lease.subnet);
  writeSubnetEnv(join(opts.runDir, 'subnet.env'), { network: config.network, subnet: `${formatIPv4(subnet.base + 1)}/${subnet.prefix}`, mtu: network.mtu, ipMasq: false });
  log(`lease ${lease.subnet} via ${ip} (backend ${config.backend}, pod MTU ${network.mtu})`);

  let index = -1;
  while (!signal.aborted) {
    try {
      const snap = await call<{ index: number; leases: Lease[] }>(`${opts.store}/v1/leases?index=${Math.max(index, 0)}&wait=${index < 0 ? 0 : 30}`, { signal });
      if (snap.index === index) continue;
      const peers = snap.leases.filter((l) => l.node !== opts.node);
      await network.sync(peers);
      index = snap.index;
      const status: AgentStatus = { node: opts.node, subnet: lease.subnet, index, peers: peers.map((p) => p.node), syncedAt: new Date().toISOString() };
      const file = join(opts.runDir, 'agent.json');
      writeFileSync(`${file}.tmp`, JSON.stringify(status));
      renameSync(`${file}.tmp`, file);
      log(`synced index ${index}: peers ${status.peers.join(', ') || '(none)'}`);
    } catch (e) {
      if (signal.aborted) break;
      log(`sync failed, retrying: ${messageOf(e)}`);
      await sleep(500, signal).catch(() => undefined);
    }
  }
}
