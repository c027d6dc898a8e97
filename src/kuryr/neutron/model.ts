/**
 * The port controller's model, Neutron's resources as cnilab shapes them (camelCase): what the
 * store keeps, the API serves, and the node daemon and the lab read. Types only, and the defaults.
 */
export type SegmentationType = 'vxlan' | 'vlan';
export type PortStatus = 'DOWN' | 'ACTIVE';

export interface Network {
  readonly id: string;
  readonly name: string;
  readonly segmentationType: SegmentationType;
  readonly segmentationId: number;
  readonly mtu: number;
  readonly createdAt: string;
}

export interface AllocationPool {
  readonly start: string;
  readonly end: string;
}

export interface Subnet {
  readonly id: string;
  readonly networkId: string;
  readonly name: string;
  readonly cidr: string;
  readonly gatewayIp: string;
  readonly allocationPools: readonly AllocationPool[];
}

export interface Port {
  readonly id: string;
  readonly networkId: string;
  readonly subnetId: string;
  readonly name: string;
  readonly macAddress: string;
  readonly ipAddress: string;
  /** compute:kuryr for pods, network:router_interface for a router's legs. */
  readonly deviceOwner: string;
  /** The pod's container ID, or the router's ID. */
  readonly deviceId: string;
  /** binding:host_id — the node the port is plugged on; '' while unbound. */
  readonly hostId: string;
  /** binding:vif_type — how the host's mechanism driver plugs it: ovs, bridge; unbound until bound. */
  readonly vifType: string;
  readonly status: PortStatus;
  readonly createdAt: string;
}

export interface Agent {
  readonly host: string;
  /** The mechanism driver it runs: openvswitch or linuxbridge. */
  readonly driver: string;
  readonly underlayIp: string;
  /** e.g. "openvswitch netdev (userspace)". */
  readonly datapath: string;
  /** Networks whose segments this host has wired (tunnels, trunk, bridges). */
  readonly wiredNetworks: readonly string[];
  readonly updatedAt: string;
}

export interface Router {
  readonly id: string;
  readonly name: string;
  /** The node whose router namespace routes between its interfaces (a legacy Neutron router). */
  readonly host: string;
}

export interface NeutronConfig {
  /** The underlay's MTU: VLAN networks get it, VXLAN networks 50 bytes less. */
  readonly underlayMtu: number;
  /** Segmentation IDs handed out when a request names none. */
  readonly vniRange: readonly [number, number];
  readonly vlanRange: readonly [number, number];
}

export const DEFAULT_NEUTRON_CONFIG: NeutronConfig = {
  underlayMtu: 1500,
  vniRange: [1001, 1999],
  vlanRange: [100, 3999],
};

export interface NetworkRequest {
  readonly name: string;
  readonly segmentationType: SegmentationType;
  readonly segmentationId?: number;
  readonly mtu?: number;
}

export interface SubnetRequest {
  readonly networkId: string;
  readonly cidr: string;
  readonly name?: string;
  readonly gatewayIp?: string;
  readonly allocationPools?: readonly AllocationPool[];
}

export interface PortRequest {
  readonly networkId: string;
  readonly name?: string;
  readonly deviceOwner?: string;
  readonly deviceId?: string;
  readonly hostId?: string;
  readonly subnetId?: string;
  readonly ipAddress?: string;
  readonly macAddress?: string;
}

export interface AgentReport {
  readonly host: string;
  readonly driver: string;
  readonly underlayIp: string;
  readonly datapath: string;
  readonly wiredNetworks: readonly string[];
}

/** What an agent needs to wire its host, in one document. */
export interface NeutronState {
  readonly index: number;
  readonly networks: readonly Network[];
  readonly subnets: readonly Subnet[];
  readonly agents: readonly Agent[];
  readonly routers: readonly Router[];
  /** Router interface ports. */
  readonly routerPorts: readonly Port[];
}
