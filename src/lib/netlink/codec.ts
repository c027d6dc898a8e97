/**
 * rtnetlink's messages, encoded and decoded: the layouts of include/uapi/linux/rtnetlink.h,
 * if_link.h and if_addr.h that cnilab's plugins use (links, veth peers, bridge ports, addresses,
 * routes), and the fields of a link as `ip -d -j link show` names them.
 */
import { CnilabError } from '../errors';
import { formatAddr, type Addr } from '../ip';

export const NLMSG_ERROR = 2;
export const NLMSG_DONE = 3;
export const NLM_F = { REQUEST: 1, MULTI: 2, ACK: 4, DUMP: 0x300, REPLACE: 0x100, EXCL: 0x200, CREATE: 0x400 } as const;
export const RTM = {
  NEWLINK: 16,
  DELLINK: 17,
  GETLINK: 18,
  NEWADDR: 20,
  DELADDR: 21,
  GETADDR: 22,
  NEWROUTE: 24,
  DELROUTE: 25,
  NEWNEIGH: 28,
  DELNEIGH: 29,
  NEWQDISC: 36,
  DELQDISC: 37,
  NEWTFILTER: 44,
  DELTFILTER: 45,
  GETTFILTER: 46,
} as const;
export const IFLA = {
  ADDRESS: 1,
  IFNAME: 3,
  MTU: 4,
  LINK: 5,
  MASTER: 10,
  LINKINFO: 18,
  IFALIAS: 20,
  NET_NS_FD: 28,
  // u32 sizes of the packets the stack may build for the device (GSO) and merge from it (GRO); the IPv4 ones since
  // Linux 6.3. Numbers from include/uapi/linux/if_link.h (IFLA_GSO_MAX_SIZE 41; IFLA_GRO_MAX_SIZE 58, then
  // TSO_MAX_SIZE, TSO_MAX_SEGS, ALLMULTI, DEVLINK_PORT, GSO_IPV4_MAX_SIZE 63, GRO_IPV4_MAX_SIZE 64).
  GSO_MAX_SIZE: 41,
  GRO_MAX_SIZE: 58,
  GSO_IPV4_MAX_SIZE: 63,
  GRO_IPV4_MAX_SIZE: 64,
} as const;
export const IFLA_INFO = { KIND: 1, DATA: 2, SLAVE_KIND: 4, SLAVE_DATA: 5 } as const;
export const VETH_INFO_PEER = 1;
export const IFLA_BRPORT_MODE = 4; // hairpin
export const IFA = { ADDRESS: 1, LOCAL: 2, FLAGS: 8 } as const;
export const IFA_F_NODAD = 0x02;
export const IFA_F_NOPREFIXROUTE = 0x200;
/** IPv6 duplicate address detection still running on the address, or failed (a duplicate was found). */
export const IFA_F_TENTATIVE = 0x40;
export const IFA_F_DADFAILED = 0x08;
export const RTA = { DST: 1, OIF: 4, GATEWAY: 5, PRIORITY: 6, PREFSRC: 7, METRICS: 8, TABLE: 15 } as const;
export const RTAX_MTU = 2;
export const IFF_UP = 0x1;
export const IFF_PROMISC = 0x100;
export const RT_SCOPE = { universe: 0, global: 0, site: 200, link: 253, host: 254 } as const;
const RT_TABLE_MAIN = 254;
const RTPROT_BOOT = 3;
const RTN_UNICAST = 1;

const FLAG_NAMES: readonly [number, string][] = [
  [0x2, 'BROADCAST'],
  [0x8, 'LOOPBACK'],
  [0x10, 'POINTOPOINT'],
  [0x80, 'NOARP'],
  [0x100, 'PROMISC'],
  [0x1000, 'MULTICAST'],
  [0x1, 'UP'],
  [0x10000, 'LOWER_UP'],
];

export const align = (n: number): number => (n + 3) & ~3;

export function attr(type: number, payload: Uint8Array): Buffer {
  const b = Buffer.alloc(align(4 + payload.length));
  b.writeUInt16LE(4 + payload.length, 0);
  b.writeUInt16LE(type, 2);
  b.set(payload, 4);
  return b;
}
export const nested = (type: number, ...children: Buffer[]): Buffer => attr(type, Buffer.concat(children));
export const strAttr = (type: number, s: string): Buffer => attr(type, Buffer.from(`${s}\0`));
export function u32Attr(type: number, v: number): Buffer {
  const p = Buffer.alloc(4);
  p.writeUInt32LE(v >>> 0, 0);
  return attr(type, p);
}
export const u8Attr = (type: number, v: number): Buffer => attr(type, Buffer.from([v]));

export function macBytes(mac: string): Buffer {
  const parts = mac.split(':');
  if (parts.length !== 6 || parts.some((p) => !/^[0-9a-f]{2}$/i.test(p)))
    throw new CnilabError('INVALID_INPUT', `${JSON.stringify(mac)} is not a MAC address`);
  return Buffer.from(parts.map((p) => parseInt(p, 16)));
}

export function addrBytes(a: Addr): Buffer {
  const n = a.family === 4 ? 4 : 16;
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = Number((a.value >> BigInt(8 * (n - 1 - i))) & 0xffn);
  return b;
}

function bytesAddr(b: Buffer): string {
  let v = 0n;
  for (const x of b) v = (v << 8n) | BigInt(x);
  return formatAddr({ family: b.length === 4 ? 4 : 6, value: v });
}

/** struct ifinfomsg */
export function ifinfomsg(index: number, flags = 0, change = 0, family = 0): Buffer {
  const b = Buffer.alloc(16);
  b.writeUInt8(family, 0);
  b.writeInt32LE(index, 4);
  b.writeUInt32LE(flags >>> 0, 8);
  b.writeUInt32LE(change >>> 0, 12);
  return b;
}

/** struct ifaddrmsg */
export function ifaddrmsg(family: 0 | 4 | 6, prefixlen: number, index: number, flags = 0, scope = 0): Buffer {
  const b = Buffer.alloc(8);
  b.writeUInt8(family === 4 ? 2 : family === 6 ? 10 : 0, 0);
  b.writeUInt8(prefixlen, 1);
  b.writeUInt8(flags & 0xff, 2);
  b.writeUInt8(scope, 3);
  b.writeUInt32LE(index, 4);
  return b;
}

/** struct rtmsg */
export function rtmsg(family: 4 | 6, dstLen: number, scope: number, table: number, forDelete: boolean): Buffer {
  const b = Buffer.alloc(12);
  b.writeUInt8(family === 4 ? 2 : 10, 0);
  b.writeUInt8(dstLen, 1);
  b.writeUInt8(table < 256 ? table : 252, 4); // RT_TABLE_COMPAT, the real one in RTA_TABLE
  // as iproute2: a delete matches any protocol and type
  b.writeUInt8(forDelete ? 0 : RTPROT_BOOT, 5);
  b.writeUInt8(scope, 6);
  b.writeUInt8(forDelete ? 0 : RTN_UNICAST, 7);
  return b;
}
export const RT_TABLE = { main: RT_TABLE_MAIN, local: 255, default: 253 } as const;

/** struct ndmsg (a neighbour entry) */
export function ndmsg(family: 4 | 6, index: number, state: number): Buffer {
  const b = Buffer.alloc(12);
  b.writeUInt8(family === 4 ? 2 : 10, 0);
  b.writeInt32LE(index, 4);
  b.writeUInt16LE(state, 8);
  return b;
}
export const NDA = { DST: 1, LLADDR: 2 } as const;
export const NUD = { permanent: 0x80, noarp: 0x40, reachable: 0x02, stale: 0x04 } as const;

/** struct tcmsg (a qdisc or a filter) */
export function tcmsg(index: number, handle: number, parent: number, info = 0): Buffer {
  const b = Buffer.alloc(20);
  b.writeInt32LE(index, 4);
  b.writeUInt32LE(handle >>> 0, 8);
  b.writeUInt32LE(parent >>> 0, 12);
  b.writeUInt32LE(info >>> 0, 16);
  return b;
}
export const TCA = { KIND: 1, OPTIONS: 2 } as const;
export const TCA_BPF = { FD: 6, NAME: 7, FLAGS: 8, ID: 11, TAG: 10 } as const;
export const TCA_BPF_FLAG_ACT_DIRECT = 1;
/** clsact's handle and parent, and its two filter hooks. */
export const TC_H = { CLSACT_HANDLE: 0xffff0000, CLSACT: 0xfffffff1, INGRESS: 0xfffffff2, EGRESS: 0xfffffff3 } as const;
export const RT_SCOPE_NOWHERE = 255;

export function parseAttrs(b: Buffer, start: number, end: number): Map<number, Buffer> {
  const m = new Map<number, Buffer>();
  let off = start;
  while (off + 4 <= end) {
    const len = b.readUInt16LE(off);
    if (len < 4) break;
    m.set(b.readUInt16LE(off + 2) & 0x3fff, b.subarray(off + 4, off + len));
    off += align(len);
  }
  return m;
}
const cstr = (b: Buffer | undefined): string | undefined => {
  if (!b) return undefined;
  const z = b.indexOf(0);
  return b.subarray(0, z < 0 ? b.length : z).toString('utf8');
};

/** A link as `ip -d -j link show` prints the fields cnilab reads. */
export interface NlLink {
  ifname: string;
  ifindex: number;
  address: string;
  mtu: number;
  flags: string[];
  /** The master's index; `master` (its name) is filled by `Rtnl.link`. */
  masterIndex?: number;
  master?: string;
  ifalias?: string;
  link_type: string;
  linkinfo?: { info_kind?: string; info_slave_kind?: string; info_data?: Record<string, unknown> };
  addr_info?: { family: string; local: string; prefixlen: number; tentative?: true; dadfailed?: true }[];
  /** GSO and GRO maximum sizes, IPv6's (and any family's on kernels before 6.3) and IPv4's, when the kernel says. */
  gso_max_size?: number;
  gro_max_size?: number;
  gso_ipv4_max_size?: number;
  gro_ipv4_max_size?: number;
}

/** The link attributes of GSO and GRO sizes, by the name `ip -d -j link show` gives each. */
export const SIZE_ATTRS = {
  gso_max_size: IFLA.GSO_MAX_SIZE,
  gro_max_size: IFLA.GRO_MAX_SIZE,
  gso_ipv4_max_size: IFLA.GSO_IPV4_MAX_SIZE,
  gro_ipv4_max_size: IFLA.GRO_IPV4_MAX_SIZE,
} as const;
export type SizeName = keyof typeof SIZE_ATTRS;

const MACVLAN_MODES: Record<number, string> = { 1: 'private', 2: 'vepa', 4: 'bridge', 8: 'passthru', 16: 'source' };
const IPVLAN_MODES: Record<number, string> = { 0: 'l2', 1: 'l3', 2: 'l3s' };

function infoData(kind: string | undefined, data: Buffer | undefined): Record<string, unknown> | undefined {
  if (!data || !kind) return undefined;
  const a = parseAttrs(data, 0, data.length);
  const one = a.get(1);
  if (!one) return undefined;
  if (kind === 'vlan') return { id: one.readUInt16LE(0) };
  if (kind === 'macvlan' || kind === 'macvtap') return { mode: MACVLAN_MODES[one.readUInt32LE(0)] ?? 'unknown' };
  if (kind === 'ipvlan') return { mode: IPVLAN_MODES[one.readUInt16LE(0)] ?? 'unknown' };
  return undefined;
}

export function parseLink(b: Buffer, off: number, end: number): NlLink {
  const type = b.readUInt16LE(off + 2);
  const index = b.readInt32LE(off + 4);
  const flags = b.readUInt32LE(off + 8);
  const a = parseAttrs(b, off + 16, end);
  const li = a.get(IFLA.LINKINFO);
  const info = li ? parseAttrs(li, 0, li.length) : undefined;
  const kind = cstr(info?.get(IFLA_INFO.KIND));
  const mac = a.get(IFLA.ADDRESS);
  const link: NlLink = {
    ifname: cstr(a.get(IFLA.IFNAME)) ?? '',
    ifindex: index,
    address: mac ? [...mac].map((x) => x.toString(16).padStart(2, '0')).join(':') : '',
    mtu: a.get(IFLA.MTU)?.readUInt32LE(0) ?? 0,
    flags: FLAG_NAMES.filter(([bit]) => (flags & bit) !== 0).map(([, n]) => n),
    link_type: type === 1 ? 'ether' : type === 772 ? 'loopback' : 'none',
  };
  const master = a.get(IFLA.MASTER);
  if (master) link.masterIndex = master.readUInt32LE(0);
  const alias = cstr(a.get(IFLA.IFALIAS));
  if (alias) link.ifalias = alias;
  for (const [name, type] of Object.entries(SIZE_ATTRS) as [SizeName, number][]) {
    const v = a.get(type);
    if (v && v.length >= 4) link[name] = v.readUInt32LE(0);
  }
  if (info) {
    const data = infoData(kind, info.get(IFLA_INFO.DATA));
    const slave = cstr(info.get(IFLA_INFO.SLAVE_KIND));
    link.linkinfo = {
      ...(kind ? { info_kind: kind } : {}),
      ...(slave ? { info_slave_kind: slave } : {}),
      ...(data ? { info_data: data } : {}),
    };
  }
  return link;
}

export interface NlAddr {
  index: number;
  family: 'inet' | 'inet6';
  local: string;
  prefixlen: number;
  /** IFA_F_* (IFA_FLAGS when the kernel sends it, else the header's 8 bits). */
  flags: number;
}

export function parseAddrMsg(b: Buffer, off: number, end: number): NlAddr | undefined {
  const family = b.readUInt8(off);
  const a = parseAttrs(b, off + 8, end);
  const local = a.get(IFA.LOCAL) ?? a.get(IFA.ADDRESS);
  if (!local || (family !== 2 && family !== 10)) return undefined;
  return {
    index: b.readUInt32LE(off + 4),
    family: family === 2 ? 'inet' : 'inet6',
    local: bytesAddr(local),
    prefixlen: b.readUInt8(off + 1),
    flags: a.get(IFA.FLAGS)?.readUInt32LE(0) ?? b.readUInt8(off + 2),
  };
}
