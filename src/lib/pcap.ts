/**
 * A reader of the classic libpcap file format (what `tcpdump -w` writes): the global header in
 * either byte order, micro- or nanosecond timestamps, Ethernet frames (802.1Q and 802.1ad tags
 * skipped), and of each frame what a wire check needs — ARP, or the IPv4 header (addresses,
 * protocol) and the ports of UDP and TCP. A frame cut by the snap length keeps what was captured;
 * a header cut short leaves its fields out, never throws. pcapng is refused.
 */
import { CnilabError } from './errors';

export const LINKTYPE_ETHERNET = 1;
export const IPPROTO = { icmp: 1, ipip: 4, tcp: 6, udp: 17, gre: 47, esp: 50 } as const;

export interface PcapIPv4 {
  readonly src: string;
  readonly dst: string;
  /** The IP protocol number (6 TCP, 17 UDP, 50 ESP, …). */
  readonly proto: number;
  /** Source and destination ports, for TCP and UDP when captured. */
  readonly sport?: number;
  readonly dport?: number;
}

export interface PcapFrame {
  /** Seconds since the epoch, with the file's precision. */
  readonly time: number;
  /** Length on the wire, and bytes captured (smaller when cut by the snap length). */
  readonly length: number;
  readonly captured: number;
  /** The EtherType after any VLAN tags (0x0800 IPv4, 0x0806 ARP, 0x86dd IPv6); undefined when cut. */
  readonly etherType?: number;
  /** VLAN IDs of the tags, outermost first. */
  readonly vlans: readonly number[];
  readonly ipv4?: PcapIPv4;
  /** The bytes captured, from the Ethernet header on. */
  readonly data: Buffer;
}

export interface Pcap {
  readonly linkType: number;
  readonly snapLen: number;
  readonly frames: readonly PcapFrame[];
}

const MAGIC_US = 0xa1b2c3d4;
const MAGIC_NS = 0xa1b23c4d;
const PCAPNG = 0x0a0d0d0a;

/** Parses a whole pcap file. Throws INVALID_INPUT, naming the field, on what is not one. */
export function parsePcap(buf: Buffer, what = 'pcap'): Pcap {
  if (buf.length < 24) throw new CnilabError('INVALID_INPUT', `${what}: ${buf.length} bytes, no pcap header (24)`);
  const le = buf.readUInt32LE(0);
  const be = buf.readUInt32BE(0);
  const little = le === MAGIC_US || le === MAGIC_NS;
  if (!little && be !== MAGIC_US && be !== MAGIC_NS)
    throw new CnilabError(
      'INVALID_INPUT',
      `${what}: magic 0x${be.toString(16)} is not pcap's` + (be === PCAPNG ? ' (pcapng: write with tcpdump -w)' : ''),
    );
  const u32 = (o: number): number => (little ? buf.readUInt32LE(o) : buf.readUInt32BE(o));
  const nano = (little ? le : be) === MAGIC_NS;
  const snapLen = u32(16);
  const linkType = u32(20) & 0xffff;
  const frames: PcapFrame[] = [];
  for (let o = 24; o + 16 <= buf.length;) {
    const captured = u32(o + 8);
    const length = u32(o + 12);
    if (o + 16 + captured > buf.length) break; // the last record cut short (a capture stopped mid-write)
    const time = u32(o) + u32(o + 4) / (nano ? 1e9 : 1e6);
    const data = buf.subarray(o + 16, o + 16 + captured);
    frames.push(linkType === LINKTYPE_ETHERNET ? ethernetFrame(data, time, length) : bare(data, time, length));
    o += 16 + captured;
  }
  return { linkType, snapLen, frames };
}

const bare = (data: Buffer, time: number, length: number): PcapFrame => ({
  time,
  length,
  captured: data.length,
  vlans: [],
  data,
});

/** An Ethernet frame's EtherType (past VLAN tags) and its IPv4 header, as far as captured. */
export function ethernetFrame(data: Buffer, time: number, length: number): PcapFrame {
  const vlans: number[] = [];
  let o = 12;
  let etherType: number | undefined;
  while (o + 2 <= data.length) {
    const t = data.readUInt16BE(o);
    if ((t === 0x8100 || t === 0x88a8) && o + 4 <= data.length) {
      vlans.push(data.readUInt16BE(o + 2) & 0x0fff);
      o += 4;
      continue;
    }
    etherType = t;
    break;
  }
  const frame = { time, length, captured: data.length, vlans, data, ...(etherType !== undefined ? { etherType } : {}) };
  const ipv4 = etherType === 0x0800 ? ipv4Header(data, o + 2) : undefined;
  return ipv4 ? { ...frame, ipv4 } : frame;
}

function ipv4Header(d: Buffer, o: number): PcapIPv4 | undefined {
  if (o + 20 > d.length || d[o]! >> 4 !== 4) return undefined;
  const ihl = (d[o]! & 0x0f) * 4;
  const proto = d[o + 9]!;
  const addr = (at: number): string => `${d[at]}.${d[at + 1]}.${d[at + 2]}.${d[at + 3]}`;
  const head = { src: addr(o + 12), dst: addr(o + 16), proto };
  const fragOffset = d.readUInt16BE(o + 6) & 0x1fff;
  const l4 = o + ihl;
  if ((proto === IPPROTO.tcp || proto === IPPROTO.udp) && fragOffset === 0 && l4 + 4 <= d.length)
    return { ...head, sport: d.readUInt16BE(l4), dport: d.readUInt16BE(l4 + 2) };
  return head;
}

/** What a frame is, in one word: "arp", "udp/8472", "tcp/179", "esp", "icmp", "ip/4", "ipv6", "ether/0x88cc". */
export function frameKind(f: PcapFrame): string {
  if (f.etherType === 0x0806) return 'arp';
  if (f.etherType === 0x86dd) return 'ipv6';
  const ip = f.ipv4;
  if (!ip) return f.etherType === undefined ? 'truncated' : `ether/0x${f.etherType.toString(16).padStart(4, '0')}`;
  if (ip.proto === IPPROTO.esp) return 'esp';
  if (ip.proto === IPPROTO.icmp) return 'icmp';
  if (ip.proto === IPPROTO.udp || ip.proto === IPPROTO.tcp) {
    const name = ip.proto === IPPROTO.udp ? 'udp' : 'tcp';
    if (ip.dport === undefined || ip.sport === undefined) return name;
    // The service's port: the lower of the two (an ephemeral port is above the well-known and registered ones).
    return `${name}/${Math.min(ip.sport, ip.dport)}`;
  }
  return `ip/${ip.proto}`;
}
