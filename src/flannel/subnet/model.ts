/** flannel's subnet model: the network configuration, a backend's settings and one node's lease, and their readers. */
import { CnilabError } from '../../lib/errors';

export interface BackendConfig {
  /** none, host-gw, vxlan, udp, udp-offload. */
  readonly type: string;
  /** vxlan: route directly (no encapsulation) to peers on the same underlay subnet. Default: false. */
  readonly directRouting?: boolean;
  /** udp-offload: techniques switched off (tso, gso, gro, coalesce, mmsg), to measure each one. */
  readonly disable?: readonly string[];
}

export interface NetworkConfig {
  /** The pod network, e.g. 10.244.0.0/16; used when enableIPv4 (flannel's `Network`). */
  readonly network: string;
  readonly subnetLength: number;
  /** flannel's EnableIPv4: leases carry an IPv4 subnet. Absent (a store made before IPv6): true. */
  readonly enableIPv4?: boolean;
  /** flannel's EnableIPv6: leases carry an IPv6 subnet of `ipv6Network` and the node's IPv6 address. Default: false. */
  readonly enableIPv6?: boolean;
  /** flannel's IPv6Network, e.g. fd00:10:244::/56; required when enableIPv6. */
  readonly ipv6Network?: string;
  /** flannel's IPv6SubnetLen. Default: 64. */
  readonly ipv6SubnetLength?: number;
  readonly backend: BackendConfig;
}

export interface Lease {
  readonly node: string;
  /** The node's IPv4 pod subnet; absent when the network has IPv4 off (flannel's EnableIPv4=false). */
  readonly subnet?: string;
  /** The node's IPv6 pod subnet, when the network has IPv6 on. */
  readonly ipv6Subnet?: string;
  /** The node's IPv4 underlay address: the control plane's, and IPv4's data path. */
  readonly publicIp: string;
  /** The node's IPv6 underlay address, when the network has IPv6 on: IPv6's data path. */
  readonly publicIpv6?: string;
  readonly backendType: string;
  /** What peers need for IPv4 (vxlan: vtepMac) and, keys ending in V6, for IPv6 (vxlan: vtepMacV6). */
  readonly backendData: Readonly<Record<string, string>>;
  readonly expiresAt: string;
  readonly updatedAt: string;
}

export interface LeaseRequest {
  readonly node: string;
  readonly publicIp: string;
  /** Required when the network has IPv6 on. */
  readonly publicIpv6?: string;
  readonly backendType: string;
  readonly backendData?: Readonly<Record<string, string>>;
}

/** True when the network's leases carry IPv4 subnets (stores made before IPv6 always did). */
export const hasIPv4 = (c: NetworkConfig): boolean => c.enableIPv4 !== false;
export const hasIPv6 = (c: NetworkConfig): boolean => c.enableIPv6 === true;

/** The lease's IPv4 subnet, for the backends that are IPv4 only (their architectures declare [4], so it is there). */
export function ipv4Subnet(lease: Lease): string {
  if (lease.subnet === undefined)
    throw new CnilabError(
      'INVALID_INPUT',
      `lease of node ${lease.node}: has no IPv4 subnet; this backend is IPv4 only`,
    );
  return lease.subnet;
}
