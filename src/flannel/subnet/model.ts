/** flannel's subnet model: the network configuration, a backend's settings and one node's lease. Types only. */
export interface BackendConfig {
  /** none, host-gw, vxlan, udp, udp-offload. */
  readonly type: string;
  /** vxlan: route directly (no encapsulation) to peers on the same underlay subnet. Default: false. */
  readonly directRouting?: boolean;
  /** udp-offload: techniques switched off (tso, gso, gro, coalesce, mmsg), to measure each one. */
  readonly disable?: readonly string[];
}

export interface NetworkConfig {
  /** The pod network, e.g. 10.244.0.0/16. */
  readonly network: string;
  readonly subnetLength: number;
  readonly backend: BackendConfig;
}

export interface Lease {
  readonly node: string;
  readonly subnet: string;
  readonly publicIp: string;
  readonly backendType: string;
  readonly backendData: Readonly<Record<string, string>>;
  readonly expiresAt: string;
  readonly updatedAt: string;
}

export interface LeaseRequest {
  readonly node: string;
  readonly publicIp: string;
  readonly backendType: string;
  readonly backendData?: Readonly<Record<string, string>>;
}
