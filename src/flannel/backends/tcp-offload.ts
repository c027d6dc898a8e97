/**
 * TCP segmentation and coalescing in user space, the two halves of what a NIC's TSO and GRO do,
 * for the udp-offload data path (udp-offload-proxy.ts). Both work on headers only: payload bytes
 * stay where the kernel put them and are handed back to it as slices (iovecs).
 *
 * - Segmentation: a TCP super-packet read from a TUN with a virtio-net header (gso_type TCPV4/6,
 *   gso_size = MSS) becomes N segments; each gets its own copy of the IP and TCP headers with the
 *   right IP length and ID (IPv4), sequence number, flags (FIN/PSH only on the last, CWR only on
 *   the first), IP header checksum and TCP checksum over pseudo-header, header and payload slice.
 * - Coalescing: consecutive segments of one TCP flow (same addresses, ports, header options,
 *   ACK, window and flags, contiguous sequence numbers, every segment MSS-sized but the last)
 *   become one super-packet: the first segment's headers say the total length, and a virtio-net
 *   header asks the kernel to resegment and checksum (NEEDS_CSUM) if it must.
 */
import { finish, fold, pseudoV4, pseudoV6, sum16, viewsOf } from './inet-checksum';

/** struct virtio_net_hdr (10 bytes, little-endian as the TUN device is on this host). */
export const VNET_HDR_LEN = 10;
export const VNET_F_NEEDS_CSUM = 1;
export const GSO_NONE = 0;
export const GSO_TCPV4 = 1;
export const GSO_TCPV6 = 4;
export const GSO_ECN = 0x80;

export const IPPROTO_TCP = 6;
const IPPROTO_UDP = 17;
const TCP_FIN = 0x01;
const TCP_PSH = 0x08;
const TCP_ACK = 0x10;
const TCP_CWR = 0x80;

export interface VnetHdr {
  flags: number;
  gsoType: number;
  hdrLen: number;
  gsoSize: number;
  csumStart: number;
  csumOffset: number;
}

export function readVnetHdr(b: Buffer, off: number): VnetHdr {
  return {
    flags: b[off]!,
    gsoType: b[off + 1]!,
    hdrLen: b.readUInt16LE(off + 2),
    gsoSize: b.readUInt16LE(off + 4),
    csumStart: b.readUInt16LE(off + 6),
    csumOffset: b.readUInt16LE(off + 8),
  };
}

export function writeVnetHdr(b: Buffer, off: number, h: VnetHdr): void {
  b[off] = h.flags;
  b[off + 1] = h.gsoType;
  b.writeUInt16LE(h.hdrLen, off + 2);
  b.writeUInt16LE(h.gsoSize, off + 4);
  b.writeUInt16LE(h.csumStart, off + 6);
  b.writeUInt16LE(h.csumOffset, off + 8);
}

/**
 * Completes a checksum the kernel left partial (VIRTIO_NET_HDR_F_NEEDS_CSUM on a packet that is
 * not a super-packet): the field already holds the pseudo-header sum; the sum from csumStart to
 * the end goes in.
 */
export function completeChecksum(pkt: Buffer, off: number, len: number, csumStart: number, csumOffset: number): void {
  const field = off + csumStart + csumOffset;
  if (csumStart >= len || csumStart + csumOffset + 2 > len) return;
  const partial = pkt.readUInt16BE(field);
  pkt.writeUInt16BE(0, field);
  let c = finish(partial + sum16(pkt, off + csumStart, len - csumStart));
  // UDP says "no checksum" with 0; a computed 0 goes on the wire as 0xffff.
  if (c === 0 && pkt[off + (pkt[off]! >> 4 === 4 ? 9 : 6)] === IPPROTO_UDP) c = 0xffff;
  pkt.writeUInt16BE(c, field);
}

/** The IP and TCP header lengths of a TCP packet, or undefined when it is not one cnilab can segment or coalesce. */
export function tcpHeaders(
  pkt: Buffer,
  off: number,
  len: number,
): { ipHl: number; tcpHl: number; v6: boolean } | undefined {
  const version = pkt[off]! >> 4;
  let ipHl: number;
  if (version === 4) {
    ipHl = (pkt[off]! & 0x0f) * 4;
    // not TCP, or a fragment
    if (ipHl < 20 || pkt[off + 9] !== IPPROTO_TCP || (pkt.readUInt16BE(off + 6) & 0x3fff) !== 0) return undefined;
  } else if (version === 6) {
    ipHl = 40;
    if (pkt[off + 6] !== IPPROTO_TCP) return undefined; // extension headers: left alone
  } else return undefined;
  if (len < ipHl + 20) return undefined;
  const tcpHl = (pkt[off + ipHl + 12]! >> 4) * 4;
  if (tcpHl < 20 || ipHl + tcpHl > len) return undefined;
  return { ipHl, tcpHl, v6: version === 6 };
}

/** The IPv4 header checksum, recomputed in place. */
export function fixIpv4Checksum(b: Buffer, ip: number, ipHl: number): void {
  b.writeUInt16BE(0, ip + 10);
  b.writeUInt16BE(finish(sum16(b, ip, ipHl)), ip + 10);
}

/**
 * Splits the TCP super-packet at `pkt[off, off+len)` into segments of `mss` payload bytes: writes
 * each segment's headers (hdrLen bytes each, one after the other) into `hdrs` from `hdrsOff` and
 * returns the segment count and header length. Segment i is hdrs[hdrsOff + i·hdrLen, +hdrLen)
 * followed by pkt[off + hdrLen + i·mss, +min(mss, rest)). `ttlDecrement` (0 or 1) is taken from
 * every segment's hop limit, as a router does. Returns undefined when the packet is not TCP.
 *
 * Per segment only what differs is written and summed: the headers' fixed part is summed once
 * (checksums are sums, so length, ID, sequence number and flags are added to that base), and the
 * payload is summed where it lies.
 */
export function segmentTcp(
  pkt: Buffer,
  off: number,
  len: number,
  mss: number,
  hdrs: Buffer,
  hdrsOff: number,
  ttlDecrement = 0,
): { count: number; hdrLen: number } | undefined {
  const h = tcpHeaders(pkt, off, len);
  if (!h || mss <= 0) return undefined;
  const { ipHl, tcpHl, v6 } = h;
  const hdrLen = ipHl + tcpHl;
  const payload = len - hdrLen;
  const count = Math.max(1, Math.ceil(payload / mss));
  const t0 = off + ipHl;
  const seq0 = pkt.readUInt32BE(t0 + 4);
  const id0 = v6 ? 0 : pkt.readUInt16BE(off + 4);
  const flags = pkt[t0 + 13]!;
  const doff = pkt[t0 + 12]!;

  // The template in slot 0: what every segment shares, with the varying fields zeroed.
  pkt.copy(hdrs, hdrsOff, off, off + hdrLen);
  const T = hdrsOff + ipHl;
  if (v6) {
    hdrs[hdrsOff + 7] = hdrs[hdrsOff + 7]! - ttlDecrement;
    hdrs[hdrsOff + 4] = hdrs[hdrsOff + 5] = 0;
  } else {
    hdrs[hdrsOff + 8] = hdrs[hdrsOff + 8]! - ttlDecrement;
    for (const f of [2, 3, 4, 5, 10, 11]) hdrs[hdrsOff + f] = 0; // length, ID, checksum
  }
  for (const f of [4, 5, 6, 7, 12, 13, 16, 17]) hdrs[T + f] = 0; // sequence, offset+flags, checksum
  const ipBase = v6 ? 0 : sum16(hdrs, hdrsOff, ipHl);
  const tcpBase =
    sum16(hdrs, T, tcpHl) + (v6 ? pseudoV6(hdrs, hdrsOff, IPPROTO_TCP, 0) : pseudoV4(hdrs, hdrsOff, IPPROTO_TCP, 0));

  for (let i = count - 1; i >= 0; i--) {
    const o = hdrsOff + i * hdrLen;
    if (i > 0) copyHeaders(hdrs, hdrsOff, o, hdrLen);
    const t = o + ipHl;
    const segPayload = i === count - 1 ? payload - i * mss : mss;
    const l4len = tcpHl + segPayload;
    if (v6) {
      hdrs[o + 4] = l4len >>> 8;
      hdrs[o + 5] = l4len & 0xff;
    } else {
      const ipLen = hdrLen + segPayload;
      const id = (id0 + i) & 0xffff;
      hdrs[o + 2] = ipLen >>> 8;
      hdrs[o + 3] = ipLen & 0xff;
      hdrs[o + 4] = id >>> 8;
      hdrs[o + 5] = id & 0xff;
      const c = finish(ipBase + ipLen + id);
      hdrs[o + 10] = c >>> 8;
      hdrs[o + 11] = c & 0xff;
    }
    const seq = (seq0 + i * mss) >>> 0;
    hdrs[t + 4] = seq >>> 24;
    hdrs[t + 5] = (seq >>> 16) & 0xff;
    hdrs[t + 6] = (seq >>> 8) & 0xff;
    hdrs[t + 7] = seq & 0xff;
    let f = flags;
    if (i < count - 1) f &= ~(TCP_FIN | TCP_PSH);
    if (i > 0) f &= ~TCP_CWR;
    hdrs[t + 12] = doff;
    hdrs[t + 13] = f;
    const c = finish(
      tcpBase +
        l4len +
        (seq >>> 16) +
        (seq & 0xffff) +
        ((doff << 8) | f) +
        sum16(pkt, off + hdrLen + i * mss, segPayload),
    );
    hdrs[t + 16] = c >>> 8;
    hdrs[t + 17] = c & 0xff;
  }
  return { count, hdrLen };
}

/** Copies `len` bytes within `b` (headers: tens of bytes, where a native call costs more than the copy). */
function copyHeaders(b: Buffer, from: number, to: number, len: number): void {
  const f = b.byteOffset + from;
  const t = b.byteOffset + to;
  if (((f | t | len) & 3) !== 0) return void b.copyWithin(to, from, from + len);
  const { u32 } = viewsOf(b.buffer);
  for (let i = 0; i < len >>> 2; i++) u32[(t >>> 2) + i] = u32[(f >>> 2) + i]!;
}

/** A run of coalescable segments being built from a received batch. */
export interface TcpRun {
  /** Offset of the first segment (its headers become the super-packet's). */
  first: number;
  ipHl: number;
  tcpHl: number;
  v6: boolean;
  /** Payload bytes of the first segment: the super-packet's gso_size. */
  mss: number;
  /** Sequence number the next segment must carry. */
  nextSeq: number;
  /** Total payload bytes so far. */
  payload: number;
  count: number;
  /** The run is closed (a short or PSH segment ended it). */
  closed: boolean;
}

/** Starts a run with the segment at `off`, or undefined when it cannot head one (not plain TCP data). */
export function startRun(b: Buffer, off: number, len: number): TcpRun | undefined {
  const h = tcpHeaders(b, off, len);
  if (!h) return undefined;
  const t = off + h.ipHl;
  const flags = b[t + 13]!;
  // SYN, FIN, RST, URG, ECN signals: alone
  if ((flags & ~(TCP_ACK | TCP_PSH)) !== 0 || !(flags & TCP_ACK)) return undefined;
  const ipLen = h.v6 ? 40 + b.readUInt16BE(off + 4) : b.readUInt16BE(off + 2);
  if (ipLen !== len) return undefined; // padding or truncation: leave it to the kernel
  const mss = len - h.ipHl - h.tcpHl;
  if (mss === 0) return undefined;
  return {
    first: off,
    ipHl: h.ipHl,
    tcpHl: h.tcpHl,
    v6: h.v6,
    mss,
    nextSeq: (b.readUInt32BE(t + 4) + mss) >>> 0,
    payload: mss,
    count: 1,
    closed: (flags & TCP_PSH) !== 0,
  };
}

/** Most payload a super-packet written to the TUN may carry (its IP length field is 16 bits). */
const MAX_COALESCED = 65535 - 120;

/** Appends the segment at `off` to the run when it continues the same flow; false otherwise. */
export function extendRun(b: Buffer, run: TcpRun, off: number, len: number): boolean {
  if (run.closed) return false;
  const hdrLen = run.ipHl + run.tcpHl;
  const payload = len - hdrLen;
  if (payload <= 0 || payload > run.mss || run.payload + payload > MAX_COALESCED) return false;
  const f = run.first;
  const t = off + run.ipHl;
  const ft = f + run.ipHl;
  if (b[off]! >> 4 !== (run.v6 ? 6 : 4)) return false;
  if (run.v6) {
    // version/class/flow, next header, hop limit, addresses
    if (
      b.readUInt32BE(off) !== b.readUInt32BE(f) ||
      b[off + 6] !== b[f + 6] ||
      b[off + 7] !== b[f + 7] ||
      b.compare(b, f + 8, f + 40, off + 8, off + 40) !== 0
    )
      return false;
    if (40 + b.readUInt16BE(off + 4) !== len) return false;
  } else {
    if (b[off] !== b[f] || b[off + 1] !== b[f + 1] || b.readUInt16BE(off + 2) !== len) return false; // IHL, TOS, length
    if (
      (b.readUInt16BE(off + 6) & 0x3fff) !== 0 ||
      b[off + 6] !== b[f + 6] ||
      b[off + 8] !== b[f + 8] ||
      b[off + 9] !== b[f + 9]
    )
      return false; // fragments, DF, TTL, protocol
    if (b.readUInt32BE(off + 12) !== b.readUInt32BE(f + 12) || b.readUInt32BE(off + 16) !== b.readUInt32BE(f + 16))
      return false;
  }
  if (b.readUInt32BE(t) !== b.readUInt32BE(ft)) return false; // ports
  if (b.readUInt32BE(t + 4) !== run.nextSeq) return false; // in order, nothing missing
  if (b.readUInt32BE(t + 8) !== b.readUInt32BE(ft + 8)) return false; // same ACK
  // header length, window
  if (b[t + 12] !== b[ft + 12] || b.readUInt16BE(t + 14) !== b.readUInt16BE(ft + 14)) return false;
  const flags = b[t + 13]!;
  if ((flags & ~TCP_PSH) !== TCP_ACK) return false;
  // options (timestamps) equal
  if (run.tcpHl > 20 && b.compare(b, ft + 20, ft + run.tcpHl, t + 20, t + run.tcpHl) !== 0) return false;
  run.count++;
  run.payload += payload;
  run.nextSeq = (run.nextSeq + payload) >>> 0;
  if (payload < run.mss || flags & TCP_PSH) {
    run.closed = true;
    if (flags & TCP_PSH) b[ft + 13] = b[ft + 13]! | TCP_PSH;
  }
  return true;
}

/**
 * Turns the run's first segment into the super-packet's headers and fills `vnet` for writing it:
 * the IP length covers every payload, the TCP checksum field holds the pseudo-header sum (the
 * kernel completes it, NEEDS_CSUM), and gso_size is the first segment's payload.
 */
export function closeRun(b: Buffer, run: TcpRun, vnet: Buffer, vnetOff: number): void {
  const f = run.first;
  const hdrLen = run.ipHl + run.tcpHl;
  const l4len = run.tcpHl + run.payload;
  let pseudo: number;
  if (run.v6) {
    b.writeUInt16BE(l4len, f + 4);
    pseudo = pseudoV6(b, f, IPPROTO_TCP, l4len);
  } else {
    b.writeUInt16BE(hdrLen + run.payload, f + 2);
    fixIpv4Checksum(b, f, run.ipHl);
    pseudo = pseudoV4(b, f, IPPROTO_TCP, l4len);
  }
  b.writeUInt16BE(fold(pseudo), f + run.ipHl + 16); // the folded sum itself, not its complement
  writeVnetHdr(vnet, vnetOff, {
    flags: VNET_F_NEEDS_CSUM,
    gsoType: run.v6 ? GSO_TCPV6 : GSO_TCPV4,
    hdrLen,
    gsoSize: run.mss,
    csumStart: run.ipHl,
    csumOffset: 16,
  });
}
