/**
 * The eBPF data path's pinned objects and the layouts of its maps, as src/ebpf/bpf/datapath.c
 * declares them (a unit test checks these against the object's BTF):
 *
 *   endpoints  hash, key: IPv4 address (4 bytes, network order)
 *              value: struct endpoint { u32 ifindex; u8 mac[6]; u8 node_mac[6]; }  (16 bytes)
 *   endpoints6 hash, key: IPv6 address (struct in6_addr: 16 bytes, network order)
 *              value: struct endpoint, as above
 *   counters   per-CPU array, key: program × ACTIONS + action (u32)
 *              value: struct counter { u64 packets; u64 bytes; }  (16 bytes a CPU)
 *
 * A node's objects are pinned under its folder in the lab's bpffs: progs/<program>, maps/<map>.
 * The NetworkPolicy maps (policy_eps, ipcache, policy, ct) are src/ebpf/policy/maps.ts's.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BpfMap, possibleCpus } from '../../../lib/bpf';
import { CnilabError } from '../../../lib/errors';
import { formatAddr, ipFamily, parseAddr, parseIPv4 } from '../../../lib/ip';

export const PROGRAMS = ['from_pod', 'from_netdev', 'from_tunnel', 'from_netkit'] as const;
export type ProgramName = (typeof PROGRAMS)[number];
export const ACTIONS = ['redirect_peer', 'redirect_neigh', 'redirect', 'pass', 'drop'] as const;
export type ActionName = (typeof ACTIONS)[number];
export const KEY_SIZE = 4;
export const KEY6_SIZE = 16;
export const ENDPOINT_SIZE = 16;
export const COUNTER_SIZE = 16;

/** Where a node's programs and maps are pinned, under its folder `dir` in the lab's bpffs. */
export function pins(dir: string): {
  readonly progs: Readonly<Record<ProgramName, string>>;
  readonly endpoints: string;
  readonly endpoints6: string;
  readonly counters: string;
  readonly policyEps: string;
  readonly ipcache: string;
  readonly policy: string;
  readonly ct: string;
} {
  return {
    progs: Object.fromEntries(PROGRAMS.map((p) => [p, join(dir, 'progs', p)])) as Record<ProgramName, string>,
    endpoints: join(dir, 'maps', 'endpoints'),
    endpoints6: join(dir, 'maps', 'endpoints6'),
    counters: join(dir, 'maps', 'counters'),
    policyEps: join(dir, 'maps', 'policy_eps'),
    ipcache: join(dir, 'maps', 'ipcache'),
    policy: join(dir, 'maps', 'policy'),
    ct: join(dir, 'maps', 'ct'),
  };
}

/** A pod of the node, as the programs find it by its address. */
export interface Endpoint {
  /** The pod's host-side veth. */
  readonly ifindex: number;
  /** The pod's eth0. */
  readonly mac: string;
  /** The host-side veth's. */
  readonly nodeMac: string;
}

export function encodeKey(ip: string): Uint8Array {
  const v = parseIPv4(ip);
  const b = new Uint8Array(KEY_SIZE);
  new DataView(b.buffer).setUint32(0, v, false);
  return b;
}

export function decodeKey(b: Uint8Array): string {
  return [...b.subarray(0, 4)].join('.');
}

/** An IPv6 address as endpoints6's key: its 16 bytes, most significant first (network order). */
export function encodeKey6(ip: string): Uint8Array {
  const a = ipFamily(ip) === 6 ? parseAddr(ip) : undefined;
  if (!a) throw new CnilabError('INVALID_INPUT', `${JSON.stringify(ip)} is not an IPv6 address`);
  const b = new Uint8Array(KEY6_SIZE);
  for (let i = 0; i < KEY6_SIZE; i++) b[i] = Number((a.value >> BigInt(8 * (KEY6_SIZE - 1 - i))) & 0xffn);
  return b;
}

export function decodeKey6(b: Uint8Array): string {
  const value = [...b.subarray(0, KEY6_SIZE)].reduce((acc, x) => (acc << 8n) | BigInt(x), 0n);
  return formatAddr({ family: 6, value });
}

/** Where a pod address's endpoint lives: the map of its family (a pin of `pins`), and its key there. */
export function endpointSlot(
  p: ReturnType<typeof pins>,
  ip: string,
): { readonly map: string; readonly key: Uint8Array } {
  return ipFamily(ip) === 6 ? { map: p.endpoints6, key: encodeKey6(ip) } : { map: p.endpoints, key: encodeKey(ip) };
}

const macOf = (b: Uint8Array): string => [...b].map((x) => x.toString(16).padStart(2, '0')).join(':');
function macInto(out: Uint8Array, at: number, mac: string): void {
  const parts = mac.split(':');
  if (parts.length !== 6 || parts.some((p) => !/^[0-9a-f]{2}$/i.test(p)))
    throw new CnilabError('INVALID_INPUT', `${JSON.stringify(mac)} is not a MAC address`);
  parts.forEach((p, i) => (out[at + i] = parseInt(p, 16)));
}

export function encodeEndpoint(e: Endpoint): Uint8Array {
  const b = new Uint8Array(ENDPOINT_SIZE);
  new DataView(b.buffer).setUint32(0, e.ifindex, true);
  macInto(b, 4, e.mac);
  macInto(b, 10, e.nodeMac);
  return b;
}

export function decodeEndpoint(b: Uint8Array): Endpoint {
  return {
    ifindex: new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(0, true),
    mac: macOf(b.subarray(4, 10)),
    nodeMac: macOf(b.subarray(10, 16)),
  };
}

/** Every endpoint in one of the node's maps (endpoints, or endpoints6 with `family` 6), by pod address. */
export function readEndpoints(m: BpfMap, family: 4 | 6 = 4): Map<string, Endpoint> {
  const out = new Map<string, Endpoint>();
  for (const k of m.keys(family === 6 ? KEY6_SIZE : KEY_SIZE)) {
    const v = m.lookup(k, ENDPOINT_SIZE);
    if (v) out.set(family === 6 ? decodeKey6(k) : decodeKey(k), decodeEndpoint(v));
  }
  return out;
}

export interface Counter {
  readonly packets: number;
  readonly bytes: number;
}
export type Counters = Readonly<Record<ProgramName, Readonly<Record<ActionName, Counter>>>>;

/** Sums a per-CPU value: `cpus` counters of 16 bytes one after the other. */
export function sumPerCpu(b: Uint8Array, cpus: number): Counter {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let packets = 0n;
  let bytes = 0n;
  for (let c = 0; c < cpus; c++) {
    packets += v.getBigUint64(c * COUNTER_SIZE, true);
    bytes += v.getBigUint64(c * COUNTER_SIZE + 8, true);
  }
  return { packets: Number(packets), bytes: Number(bytes) };
}

/** The node's counters, every program's every action, summed over the CPUs. */
export function readCounters(countersPin: string): Counters {
  const cpus = possibleCpus(readFileSync('/sys/devices/system/cpu/possible', 'utf8'));
  return BpfMap.with(countersPin, (m) => {
    const out = {} as Record<ProgramName, Record<ActionName, Counter>>;
    PROGRAMS.forEach((p, pi) => {
      out[p] = {} as Record<ActionName, Counter>;
      ACTIONS.forEach((a, ai) => {
        const key = new Uint8Array(4);
        new DataView(key.buffer).setUint32(0, pi * ACTIONS.length + ai, true);
        const v = m.lookup(key, cpus * COUNTER_SIZE);
        out[p][a] = v ? sumPerCpu(v, cpus) : { packets: 0, bytes: 0 };
      });
    });
    return out;
  });
}
