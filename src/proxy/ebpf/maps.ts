/**
 * The eBPF Service proxy's pinned objects and the layouts of its maps, as
 * src/proxy/ebpf/bpf/service.c declares them (a unit test checks these against the object's BTF).
 * Addresses and ports are stored as in a packet (network order); ids and counts little-endian.
 *
 *   services      hash, key: struct svc_key { u32 ip; u16 port; u8 proto; u8 pad; }          (8 bytes)
 *                 value: struct svc_value { u32 id; u32 count; u32 affinity_s; }          (12 bytes)
 *   backends      hash, key: struct backend_key { u32 id; u32 slot; }                      (8 bytes)
 *                 value: struct addr { u32 ip; u16 port; u16 pad; }                        (8 bytes)
 *   forward       LRU hash, key: struct flow_key (client → ClusterIP), value: struct addr (backend)
 *   reverse       LRU hash, key: struct flow_key (client ← backend), value: struct addr (ClusterIP)
 *   sock_reverse  LRU hash (socket programs), key: { u64 cookie; u32 ip; u16 port }, value: addr
 *   affinity      LRU hash, key: { u64 client; u32 id }, value: { u64 used_ns; addr; u32 slot }
 *   svc_counters  per-CPU array, key: program × ACTIONS + action, value: { u64 packets; u64 bytes }
 *
 * A node's objects are pinned under the mode's folder (on a bpffs): progs/<program>, maps/<map>.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BpfMap, possibleCpus } from '../../lib/bpf';
import { formatIPv4, parseIPv4 } from '../../lib/ip';
import { COUNTER_SIZE, sumPerCpu, type Counter } from '../../cni/plugins/ebpf/maps';
import type { Protocol } from '../model';

export const PROGRAMS = [
  'svc_from_pod',
  'svc_to_pod',
  'svc_connect4',
  'svc_sendmsg4',
  'svc_recvmsg4',
  'svc_getpeername4',
] as const;
export type ProgramName = (typeof PROGRAMS)[number];
export const ACTIONS = ['pass', 'new_flow', 'established', 'affinity', 'refused', 'drop', 'reverse', 'error'] as const;
export type ActionName = (typeof ACTIONS)[number];
export const MAPS = ['services', 'backends', 'forward', 'reverse', 'sock_reverse', 'affinity', 'svc_counters'] as const;
export type MapName = (typeof MAPS)[number];

export const SVC_KEY_SIZE = 8;
export const SVC_VALUE_SIZE = 12;
export const BACKEND_KEY_SIZE = 8;
export const ADDR_SIZE = 8;

const PROTO: Record<Protocol, number> = { tcp: 6, udp: 17 };
const PROTO_NAME: Record<number, Protocol> = { 6: 'tcp', 17: 'udp' };

/** Where the proxy's programs and maps are pinned under `dir`. */
export function pins(dir: string): {
  readonly progs: Readonly<Record<ProgramName, string>>;
  readonly maps: Readonly<Record<MapName, string>>;
} {
  return {
    progs: Object.fromEntries(PROGRAMS.map((p) => [p, join(dir, 'progs', p)])) as Record<ProgramName, string>,
    maps: Object.fromEntries(MAPS.map((m) => [m, join(dir, 'maps', m)])) as Record<MapName, string>,
  };
}

export interface ServiceKey {
  readonly ip: string;
  readonly port: number;
  readonly protocol: Protocol;
}
export interface ServiceValue {
  readonly id: number;
  readonly count: number;
  /** 0: no affinity. */
  readonly affinitySeconds: number;
}
export interface Addr {
  readonly ip: string;
  readonly port: number;
}

const view = (b: Uint8Array): DataView => new DataView(b.buffer, b.byteOffset, b.byteLength);

/** Writes an address and port, network order, at `at` of `b`. */
function addrInto(b: Uint8Array, at: number, ip: string, port: number): void {
  view(b).setUint32(at, parseIPv4(ip), false);
  view(b).setUint16(at + 4, port, false);
}

export function encodeServiceKey(k: ServiceKey, out = new Uint8Array(SVC_KEY_SIZE), at = 0): Uint8Array {
  addrInto(out, at, k.ip, k.port);
  out[at + 6] = PROTO[k.protocol];
  out[at + 7] = 0;
  return out;
}

export function decodeServiceKey(b: Uint8Array): ServiceKey {
  const protocol = PROTO_NAME[b[6]!];
  if (!protocol) throw new RangeError(`protocol ${b[6]} is neither TCP nor UDP`);
  return { ip: formatIPv4(view(b).getUint32(0, false)), port: view(b).getUint16(4, false), protocol };
}

export function encodeServiceValue(v: ServiceValue, out = new Uint8Array(SVC_VALUE_SIZE), at = 0): Uint8Array {
  const d = view(out);
  d.setUint32(at, v.id, true);
  d.setUint32(at + 4, v.count, true);
  d.setUint32(at + 8, v.affinitySeconds, true);
  return out;
}

export function decodeServiceValue(b: Uint8Array): ServiceValue {
  const d = view(b);
  return { id: d.getUint32(0, true), count: d.getUint32(4, true), affinitySeconds: d.getUint32(8, true) };
}

export function encodeBackendKey(id: number, slot: number, out = new Uint8Array(BACKEND_KEY_SIZE), at = 0): Uint8Array {
  view(out).setUint32(at, id, true);
  view(out).setUint32(at + 4, slot, true);
  return out;
}

export function decodeBackendKey(b: Uint8Array): { id: number; slot: number } {
  return { id: view(b).getUint32(0, true), slot: view(b).getUint32(4, true) };
}

export function encodeAddr(a: Addr, out = new Uint8Array(ADDR_SIZE), at = 0): Uint8Array {
  addrInto(out, at, a.ip, a.port);
  view(out).setUint16(at + 6, 0, true);
  return out;
}

export function decodeAddr(b: Uint8Array): Addr {
  return { ip: formatIPv4(view(b).getUint32(0, false)), port: view(b).getUint16(4, false) };
}

/** Every Service port in the node's map, by its key's bytes as a string (serviceId). */
export function readServices(m: BpfMap): Map<string, { key: ServiceKey; value: ServiceValue }> {
  const out = new Map<string, { key: ServiceKey; value: ServiceValue }>();
  for (const k of m.keys(SVC_KEY_SIZE)) {
    const v = m.lookup(k, SVC_VALUE_SIZE);
    if (!v) continue;
    const key = decodeServiceKey(k);
    out.set(serviceId(key), { key, value: decodeServiceValue(v) });
  }
  return out;
}

/** A Service port's identity in the maps: "10.96.0.10:53/udp". */
export const serviceId = (k: ServiceKey): string => `${k.ip}:${k.port}/${k.protocol}`;

export type Counters = Readonly<Record<ProgramName, Readonly<Record<ActionName, Counter>>>>;

/** The proxy's counters under `dir`, every program's every action, summed over the CPUs. */
export function readCounters(dir: string): Counters {
  const cpus = possibleCpus(readFileSync('/sys/devices/system/cpu/possible', 'utf8'));
  return BpfMap.with(pins(dir).maps.svc_counters, (m) => {
    const out = {} as Record<ProgramName, Record<ActionName, Counter>>;
    PROGRAMS.forEach((p, pi) => {
      out[p] = {} as Record<ActionName, Counter>;
      ACTIONS.forEach((a, ai) => {
        const key = new Uint8Array(4);
        view(key).setUint32(0, pi * ACTIONS.length + ai, true);
        const v = m.lookup(key, cpus * COUNTER_SIZE);
        out[p][a] = v ? sumPerCpu(v, cpus) : { packets: 0, bytes: 0 };
      });
    });
    return out;
  });
}
