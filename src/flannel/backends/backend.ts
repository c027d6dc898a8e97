/**
 * An overlay backend, flannel's Backend/Network split: `create` prepares the node's device and
 * tells what peers must know (backendData); the lease it then gets is applied with `configure`;
 * `sync` programs the kernel for exactly the given peers, adding new ones and removing the gone.
 * Every call is idempotent, so a restarted agent converges without disturbing running traffic.
 */
import type { Lease, NetworkConfig } from '../subnet/model';

export interface BackendContext {
  /** The network configuration from the store (network, subnet length, backend options). */
  readonly networkConfig: NetworkConfig;
  /** The node's underlay interface, e.g. eth0. */
  readonly iface: string;
  readonly publicIp: string;
  /** The underlay address with its prefix, e.g. 198.18.0.2/24. */
  readonly underlayCidr: string;
  /** The node's IPv6 underlay address, when the network has IPv6 on. */
  readonly publicIpv6?: string;
  /** It with its prefix, e.g. 2001:2::2/64. */
  readonly underlayCidr6?: string;
  readonly underlayMtu: number;
  /** The node's folder (its keys, where a backend has them). */
  readonly runDir: string;
}

export interface BackendNetwork {
  /** MTU pods must use on this backend. */
  readonly mtu: number;
  readonly backendData: Readonly<Record<string, string>>;
  configure(own: Lease): Promise<void>;
  sync(peers: readonly Lease[]): Promise<void>;
  /** Counters of a data path that runs in the agent (udp); absent for kernel data paths. */
  stats?(): Readonly<Record<string, number>>;
  /** The device whose kernel counters count the packets that data path moves (udp: flannel0). */
  readonly datapathDevice?: string;
}

export type Backend = (ctx: BackendContext) => Promise<BackendNetwork>;
