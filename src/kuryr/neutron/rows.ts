/**
 * How the port controller's model is kept in SQLite: the schema, the rows as SQLite returns them,
 * and the conversions to the model's shapes.
 */
import { formatIPv4 } from '../../lib/ip';
import type { AllocationPool, Network, Port, PortStatus, SegmentationType, Subnet } from './model';

export const SCHEMA =
  `
      CREATE TABLE IF NOT EXISTS networks (
        id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, seg_type TEXT NOT NULL, seg_id INTEGER NOT NULL,
        mtu INTEGER NOT NULL, created_at TEXT NOT NULL, UNIQUE (seg_type, seg_id));
      CREATE TABLE IF NOT EXISTS subnets (
        id TEXT PRIMARY KEY, network_id TEXT NOT NULL REFERENCES networks(id), name TEXT NOT NULL,
        cidr TEXT NOT NULL, gateway_ip TEXT NOT NULL, pools TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS ports (
        id TEXT PRIMARY KEY, network_id TEXT NOT NULL REFERENCES networks(id), subnet_id TEXT NOT NULL REFERENCES ` +
  `subnets(id),
        name TEXT NOT NULL, mac TEXT NOT NULL UNIQUE, ip TEXT NOT NULL, device_owner TEXT NOT NULL, device_id ` +
  `TEXT NOT NULL,
        host_id TEXT NOT NULL, vif_type TEXT NOT NULL, status TEXT NOT NULL, created_at TEXT NOT NULL, UNIQUE ` +
  `(subnet_id, ip));
      CREATE TABLE IF NOT EXISTS agents (
        host TEXT PRIMARY KEY, driver TEXT NOT NULL, underlay_ip TEXT NOT NULL, datapath TEXT NOT NULL,
        wired TEXT NOT NULL, updated_at TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS routers (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, host TEXT NOT NULL);
`;

/** The allocation pools of a subnet by default: every host address but the gateway's. */
export function defaultPools(first: number, last: number, gateway: number): AllocationPool[] {
  const pools: AllocationPool[] = [];
  if (gateway > first) pools.push({ start: formatIPv4(first), end: formatIPv4(gateway - 1) });
  if (gateway < last) pools.push({ start: formatIPv4(gateway + 1), end: formatIPv4(last) });
  return pools;
}

export interface NetworkRow {
  id: string;
  name: string;
  seg_type: SegmentationType;
  seg_id: number;
  mtu: number;
  created_at: string;
}
export interface SubnetRow {
  id: string;
  network_id: string;
  name: string;
  cidr: string;
  gateway_ip: string;
  pools: string;
}
export interface PortRow {
  id: string;
  network_id: string;
  subnet_id: string;
  name: string;
  mac: string;
  ip: string;
  device_owner: string;
  device_id: string;
  host_id: string;
  vif_type: string;
  status: PortStatus;
  created_at: string;
}
export interface AgentRow {
  host: string;
  driver: string;
  underlay_ip: string;
  datapath: string;
  wired: string;
  updated_at: string;
}

export const toNetwork = (r: NetworkRow): Network => ({
  id: r.id,
  name: r.name,
  segmentationType: r.seg_type,
  segmentationId: r.seg_id,
  mtu: r.mtu,
  createdAt: r.created_at,
});
export const toSubnet = (r: SubnetRow): Subnet => ({
  id: r.id,
  networkId: r.network_id,
  name: r.name,
  cidr: r.cidr,
  gatewayIp: r.gateway_ip,
  allocationPools: JSON.parse(r.pools) as AllocationPool[],
});
export const toPort = (r: PortRow): Port => ({
  id: r.id,
  networkId: r.network_id,
  subnetId: r.subnet_id,
  name: r.name,
  macAddress: r.mac,
  ipAddress: r.ip,
  deviceOwner: r.device_owner,
  deviceId: r.device_id,
  hostId: r.host_id,
  vifType: r.vif_type,
  status: r.status,
  createdAt: r.created_at,
});

/** A port's values in the ports table's column order. */
export const portValues = (p: Port): (string | number)[] => [
  p.id,
  p.networkId,
  p.subnetId,
  p.name,
  p.macAddress,
  p.ipAddress,
  p.deviceOwner,
  p.deviceId,
  p.hostId,
  p.vifType,
  p.status,
  p.createdAt,
];
