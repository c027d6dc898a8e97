/**
 * What a Service proxy programs on a node: every Service port of the cluster with its endpoints,
 * as kube-proxy sees them once Services and EndpointSlices are resolved. A proxy mode (a folder
 * of src/proxy/, listed in src/proxy/index.ts) turns this into its data path — iptables chains, an
 * nftables table, IPVS virtual servers, eBPF maps — and nothing else feeds it.
 */

export type Protocol = 'tcp' | 'udp';

/** One backend of a Service port: a pod's address and the port it listens on. */
export interface ProxyEndpoint {
  readonly ip: string;
  readonly port: number;
  /** The node the pod runs on (kube-proxy's "local" endpoints are this node's). */
  readonly node: string;
  /** The pod, for names and messages. */
  readonly pod: string;
}

/** One port of one Service: kube-proxy's ServicePortName, the unit every mode programs. */
export interface ProxyService {
  /** The Service's name (unique in the lab). */
  readonly name: string;
  /** The port's name; '' for a Service's only port. */
  readonly portName: string;
  readonly clusterIp: string;
  readonly port: number;
  readonly protocol: Protocol;
  /** ClientIP session affinity's timeout in seconds; undefined: none (kube-proxy's default). */
  readonly affinitySeconds?: number;
  /** Ready endpoints, sorted by ip then port. None: the proxy rejects new connections. */
  readonly endpoints: readonly ProxyEndpoint[];
}

/** Everything a proxy needs to program one node. */
export interface ProxyInput {
  /** The node programmed. */
  readonly node: string;
  /** The cluster's pod range: traffic from outside it to a ClusterIP is masqueraded (kube-proxy's --cluster-cidr). */
  readonly clusterCidr: string;
  /** The Service (ClusterIP) range. */
  readonly serviceCidr: string;
  /** Every Service port, sorted by name then portName. */
  readonly services: readonly ProxyService[];
}

/** kube-proxy's ServicePortName, as it writes it in comments and hashes: "default/NAME:PORTNAME". */
export const servicePortName = (s: Pick<ProxyService, 'name' | 'portName'>): string =>
  `default/${s.name}${s.portName ? `:${s.portName}` : ''}`;
