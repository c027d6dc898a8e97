/**
 * The NetworkPolicy maps of the eBPF data path, as src/ebpf/bpf/datapath.c declares them (the
 * layout test in src/ebpf/build.test.ts holds these to the object's BTF):
 *
 *   policy_eps  hash, key: IPv4 (network order) → struct policy_ep { u8 ingress; u8 egress; u8 pad[2]; }
 *   ipcache     LPM trie, key struct ipcache_key { u32 prefixlen; u32 addr (network order); }
 *               → u32 identity
 *   policy      LPM trie, key struct policy_key { u32 prefixlen; u32 endpoint (network order);
 *               u32 identity; u8 direction; u8 protocol; u16 dport (network order); } → u32 (1)
 *   ct          LRU hash, key struct ct_key { u32 saddr, daddr; u16 sport, dport; u8 protocol,
 *               direction; u16 pad; u32 endpoint; } → struct ct_entry { u64 created; }
 *
 * The policy key's data is 96 bits: endpoint, identity and direction are always matched whole
 * (72 bits), protocol and port are the prefix's tail — 72: every protocol and port, 80: every
 * port of one protocol, 80 + n: the ports sharing their first n bits. (The brief's order put the
 * direction before the identity; both are matched whole, so the order is the C struct's packing.)
 * Entries are kept as hex strings of their bytes (key → value) so desired and actual compare as
 * plain maps.
 */
import { parseIPv4 } from '../../lib/ip';

export const POLICY_EP_SIZE = 4;
export const IPCACHE_KEY_SIZE = 8;
export const POLICY_KEY_SIZE = 16;
export const CT_KEY_SIZE = 20;
/** Where struct ct_key's endpoint is. */
export const CT_ENDPOINT_AT = 16;
export const CT_ENTRY_SIZE = 8;
export const U32 = 4;
/** The policy key's data bits (after prefixlen), and where the protocol starts. */
export const POLICY_KEY_BITS = 96;
export const PREFIX_ANY_PORT = 72;
export const PREFIX_PROTOCOL = 80;

export type Direction = 'ingress' | 'egress';
export const DIRECTION: Readonly<Record<Direction, number>> = { ingress: 0, egress: 1 };
export const PROTOCOL = { tcp: 6, udp: 17, sctp: 132 } as const;

/** Reserved identities (Cilium's numbers): 0 is "any remote" in policy keys; WORLD every address not otherwise known. */
export const IDENTITY_ANY = 0;
export const IDENTITY_WORLD = 2;

export const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
export const unhex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'hex'));

function bytes(size: number, fill: (v: DataView) => void): string {
  const b = new Uint8Array(size);
  fill(new DataView(b.buffer));
  return hex(b);
}

export const epKey = (ip: string): string => bytes(4, (v) => v.setUint32(0, parseIPv4(ip), false));
export const epValue = (ingress: boolean, egress: boolean): string =>
  bytes(POLICY_EP_SIZE, (v) => {
    v.setUint8(0, ingress ? 1 : 0);
    v.setUint8(1, egress ? 1 : 0);
  });

/** An ipcache key: `base` (the block's first address, as a number) and its prefix length. */
export const ipcacheKey = (base: number, prefix: number): string =>
  bytes(IPCACHE_KEY_SIZE, (v) => {
    v.setUint32(0, prefix, true);
    v.setUint32(4, base, false);
  });
export const decodeIpcacheKey = (k: string): { base: number; prefix: number } => {
  const v = new DataView(unhex(k).buffer);
  return { base: v.getUint32(4, false), prefix: v.getUint32(0, true) };
};
export const u32 = (n: number): string => bytes(U32, (v) => v.setUint32(0, n, true));
export const decodeU32 = (s: string): number => new DataView(unhex(s).buffer).getUint32(0, true);

export interface PolicyKey {
  readonly prefixlen: number;
  readonly endpoint: string;
  readonly identity: number;
  readonly direction: Direction;
  /** 0 with prefixlen PREFIX_ANY_PORT. */
  readonly protocol: number;
  readonly dport: number;
}

export const policyKey = (k: PolicyKey): string =>
  bytes(POLICY_KEY_SIZE, (v) => {
    v.setUint32(0, k.prefixlen, true);
    v.setUint32(4, parseIPv4(k.endpoint), false);
    v.setUint32(8, k.identity, true);
    v.setUint8(12, DIRECTION[k.direction]);
    v.setUint8(13, k.protocol);
    v.setUint16(14, k.dport, false);
  });

export function decodePolicyKey(s: string): PolicyKey {
  const v = new DataView(unhex(s).buffer);
  return {
    prefixlen: v.getUint32(0, true),
    endpoint: [4, 5, 6, 7].map((i) => v.getUint8(i)).join('.'),
    identity: v.getUint32(8, true),
    direction: v.getUint8(12) === DIRECTION.egress ? 'egress' : 'ingress',
    protocol: v.getUint8(13),
    dport: v.getUint16(14, false),
  };
}
