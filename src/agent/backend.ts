/**
 * An overlay backend, flannel's Backend/Network split: `create` prepares the node's device and
 * tells what peers must know (backendData); the lease it then gets is applied with `configure`;
 * `sync` programs the kernel for exactly the given peers, adding new ones and removing the gone.
 * Every call is idempotent, so a restarted agent converges without disturbing running traffic.
 */
import type { Lease } from '../controller/lease-store';

export interface BackendContext {
  /** The node's underlay interface, e.g. eth0. */
  readonly iface: string;
  readonly publicIp: string;
  readonly underlayMtu: number;
}

export interface BackendNetwork {
  /** MTU pods must use on this backend. */
  readonly mtu: number;
  readonly backendData: Readonly<Record<string, string>>;
  configure(own: Lease): Promise<void>;
  sync(peers: readonly Lease[]): Promise<void>;
}

export type Backend = (ctx: BackendContext) => Promise<BackendNetwork>;

/** Routes cnilab's agents install carry this protocol number, so stale ones can be found. */
export const ROUTE_PROTO = '250';
