/**
 * The udp-offload data path: the same IP-in-UDP tunnel as flannel's udp backend (one inner IP
 * packet per UDP datagram on port 8285, so either end may run the faithful proxy), built the way
 * modern user-space tunnels are, so that each crossing of the user/kernel boundary moves up to
 * 64 KB instead of one packet:
 *
 *   out:  TUN read (TSO super-packet + virtio-net header) → segment headers in JS (tcp-offload.ts)
 *         → one sendmsg with UDP_SEGMENT (GSO): the kernel cuts the datagrams
 *   in:   recvmmsg of UDP_GRO datagrams (the kernel glues same-size datagrams of a flow) → find
 *         runs of one TCP flow → one writev per run to the TUN as a super-packet (NEEDS_CSUM,
 *         gso TCPV4/6); anything else (UDP, ICMP, out of order) is written packet by packet
 *
 * Payload is never copied in JavaScript: the kernel gets iovecs pointing into the buffers it read
 * into, beside headers built in a separate buffer. Each technique can be switched off (`Offloads`)
 * to measure what it contributes. Remaining crossings per 64 KB: one read + one or two sendmsg
 * out; one recvmmsg (for several super-datagrams) + one writev per run in; poll only when idle.
 */
import { MSG_DONTWAIT, SOL_UDP, UDP_GRO, UDP_SEGMENT, loadLibc, sockaddrIn } from './libc';
import {
  GSO_ECN,
  GSO_NONE,
  GSO_TCPV4,
  GSO_TCPV6,
  VNET_F_NEEDS_CSUM,
  VNET_HDR_LEN,
  closeRun,
  completeChecksum,
  extendRun,
  segmentTcp,
  startRun,
  type TcpRun,
} from './tcp-offload';
import { openUdpSocket, startPollLoop } from './proxy-loop';
import { decrementTtl, type Proxy, type ProxyStats } from './udp-proxy';

/** The techniques, each of which can be switched off. */
export const TECHNIQUES = ['tso', 'gso', 'gro', 'coalesce', 'mmsg'] as const;
export type Technique = (typeof TECHNIQUES)[number];
export type Offloads = Readonly<Record<Technique, boolean>>;

export interface OffloadStats extends ProxyStats {
  /** TUN reads that returned a TCP super-packet. */
  superPacketsRead: number;
  /** Received datagrams the kernel had glued (more than one segment). */
  groDatagrams: number;
  /** TUN writes of a super-packet (a run of more than one segment). */
  superPacketsWritten: number;
}

const SOL_SOCKET = 1;
const SO_SNDBUFFORCE = 32;
const SO_RCVBUFFORCE = 33;
/**
 * What sendmsg says when UDP_SEGMENT cannot be done here (other errors drop the datagrams, as they would without
 * GSO).
 */
const GSO_REFUSED = new Set([22 /* EINVAL */, 5 /* EIO */, 95 /* EOPNOTSUPP */]);
/** UDP_MAX_SEGMENTS of older kernels and the largest IPv4 UDP payload. */
const MAX_GSO_SEGMENTS = 64;
const MAX_UDP_PAYLOAD = 65507;
/** Most segments one run writes to the TUN (iovecs per writev stay far below UIO_MAXIOV). */
const MAX_RUN = 64;
/** Datagrams per recvmmsg, each buffer large enough for a glued 64 KB datagram. */
const RX_BATCH = 8;
const RX_BUF = 65536;
/** Segments one super-packet can make (64 KB at the smallest MSS TCP uses). */
const MAX_SEGMENTS = 1024;
const MAX_HDR = 120;
const PKT = 12; // offset of the IP packet in the TUN read buffer: 4-byte aligned, for the checksum
/** Super-packets handled per wake-up before yielding to the event loop. */
const BURST = 64;
/**
 * How long after the last packet the proxy keeps waiting on its own thread, and for how long at once (proxy-loop.ts).
 */
const HOT_MS = 200;
const BLOCK_MS = 2;

/* eslint-disable-next-line max-lines-per-function -- one closure holds the hot path's state (buffers, iovecs,
   counters, both fds): split, every batch would pass a dozen values across calls (docs/udp-offload.md) */
export function startOffloadProxy(
  tunFd: number,
  bindIp: string,
  port: number,
  subnetLength: number,
  offloads: Offloads,
): Proxy & { readonly stats: OffloadStats } {
  const libc = loadLibc();
  const raw = libc.raw;
  const sock = openUdpSocket(bindIp, port);
  const int = (v: number): Buffer => {
    const b = Buffer.alloc(4);
    b.writeInt32LE(v);
    return b;
  };
  // Room for a few 64 KB bursts in flight either way (per socket, no sysctl changed).
  libc.setsockopt(sock, SOL_SOCKET, SO_RCVBUFFORCE, int(8 << 20), 4);
  libc.setsockopt(sock, SOL_SOCKET, SO_SNDBUFFORCE, int(8 << 20), 4);
  // an older kernel says no: datagrams come one by one
  if (offloads.gro) libc.setsockopt(sock, SOL_UDP, UDP_GRO, int(1), 4);
  let gso = offloads.gso;

  const stats: OffloadStats = {
    syscalls: 0,
    polls: 0,
    tunReads: 0,
    tunWrites: 0,
    udpSends: 0,
    udpReceives: 0,
    packetsOut: 0,
    packetsIn: 0,
    bytesOut: 0,
    bytesIn: 0,
    dropped: 0,
    superPacketsRead: 0,
    groDatagrams: 0,
    superPacketsWritten: 0,
  };
  const size = 2 ** (32 - subnetLength);
  /** Subnet base → the peer proxy's sockaddr_in and its address (for msg_name). */
  let peers = new Map<number, { sa: Buffer; addr: number }>();

  // Every buffer whose address the kernel is given stays referenced here until stop(): the garbage
  // collector must not free memory a pointer inside another structure still names. V8 keeps typed
  // arrays of 64 bytes or less inside its heap, where they can move: pinned ones are larger.
  const pinned: Buffer[] = [];
  const pin = (b: Buffer): number => {
    if (b.buffer.byteLength <= 64) throw new Error('internal: a pinned buffer must be larger than 64 bytes');
    pinned.push(b);
    return libc.addressOf(b);
  };

  // ---- out: TUN → UDP -------------------------------------------------------------------------
  const rbuf = Buffer.alloc(PKT + 65536);
  const pkt = rbuf.subarray(PKT);
  const hdrs = Buffer.alloc(MAX_SEGMENTS * MAX_HDR);
  // iovecs: [0, 2·MAX_SEGMENTS) for segments (header, payload) pairs; the last pair for a plain packet.
  const txIov = new IovTable(2 * MAX_SEGMENTS + 2, pin);
  const PLAIN = 2 * MAX_SEGMENTS;
  const msg = new Uint32Array(32); // struct msghdr (56 bytes), written as 32-bit words
  const cmsg = Buffer.alloc(128); // struct cmsghdr + u16 gso_size: CMSG_SPACE(2) = 24 bytes used
  const rbufAddr = pin(rbuf);
  const hdrsAddr = pin(hdrs);
  const msgAddr = pin(Buffer.from(msg.buffer));
  cmsg.writeUInt32LE(16 + 2, 0); // cmsg_len = CMSG_LEN(sizeof(uint16_t))
  cmsg.writeInt32LE(SOL_UDP, 8);
  cmsg.writeInt32LE(UDP_SEGMENT, 12);
  msg[2] = 16; // msg_namelen
  setPointer(msg, 8, pin(cmsg)); // msg_control
  txIov.set(PLAIN, rbufAddr + PKT, 0);
  txIov.set(PLAIN + 1, rbufAddr, 0);
  // The segment iovecs are the same for every super-packet of one MSS and header length: they are
  // written once and only the last segment's length changes.
  let layoutHdrLen = 0;
  let layoutMss = 0;
  let layoutCount = 0;

  /** One sendmsg of `n` segments whose iovecs start at entry `first`; GSO when n > 1. */
  const send = (peer: { addr: number }, first: number, n: number, segSize: number, bytes: number): boolean => {
    setPointer(msg, 0, peer.addr);
    setPointer(msg, 4, txIov.addr + first * 16);
    msg[6] = 2 * n; // msg_iovlen
    msg[10] = n > 1 ? 24 : 0; // msg_controllen
    cmsg[16] = segSize & 0xff;
    cmsg[17] = segSize >>> 8;
    stats.syscalls++;
    if (raw.sendmsg(sock, msgAddr, 0) < 0) {
      stats.dropped += n;
      return false;
    }
    stats.udpSends++;
    stats.packetsOut += n;
    stats.bytesOut += bytes;
    return true;
  };

  const fromTun = (): boolean => {
    const r = raw.read(tunFd, rbufAddr + PKT - VNET_HDR_LEN, 65536 + VNET_HDR_LEN);
    stats.syscalls++;
    if (r < 0) return false; // EAGAIN: drained
    stats.tunReads++;
    const n = r - VNET_HDR_LEN;
    if (n < 20) return true;
    const flags = rbuf[PKT - 10]!;
    const gsoType = rbuf[PKT - 9]! & ~GSO_ECN;
    const version = pkt[0]! >> 4;
    // the pod network is IPv4
    const peer = version === 4 ? peers.get(Math.floor(pkt.readUInt32BE(16) / size) * size) : undefined;
    if (!peer || pkt[version === 4 ? 8 : 7]! <= 1) {
      stats.dropped++;
      return true;
    }
    if (gsoType === GSO_TCPV4 || gsoType === GSO_TCPV6) {
      const mss = rbuf[PKT - 6]! | (rbuf[PKT - 5]! << 8);
      const seg = segmentTcp(pkt, 0, n, mss, hdrs, 0, 1);
      if (!seg) {
        stats.dropped++;
        return true;
      }
      stats.superPacketsRead++;
      const { count, hdrLen } = seg;
      if (hdrLen !== layoutHdrLen || mss !== layoutMss) [layoutHdrLen, layoutMss, layoutCount] = [hdrLen, mss, 0];
      for (let i = layoutCount; i < count; i++) {
        txIov.set(2 * i, hdrsAddr + i * hdrLen, hdrLen);
        txIov.set(2 * i + 1, rbufAddr + PKT + hdrLen + i * mss, mss);
      }
      layoutCount = Math.max(layoutCount, count);
      const payload = n - hdrLen;
      const last = payload - (count - 1) * mss;
      txIov.setLength(2 * count - 1, last);
      const segSize = hdrLen + mss;
      const perSend = gso ? Math.min(MAX_GSO_SEGMENTS, Math.floor(MAX_UDP_PAYLOAD / segSize)) : 1;
      for (let i = 0; i < count; i += perSend) {
        const k = Math.min(perSend, count - i);
        const bytes = k * hdrLen + Math.min(k * mss, payload - i * mss);
        if (!send(peer, 2 * i, k, segSize, bytes) && k > 1 && GSO_REFUSED.has(libc.errno())) {
          // This kernel or device refuses UDP GSO (EINVAL: too old; EIO: no checksum offload): segment by segment
          // from now on.
          gso = false;
          stats.dropped -= k;
          for (let j = 0; j < k; j++)
            send(peer, 2 * (i + j), 1, segSize, hdrLen + Math.min(mss, payload - (i + j) * mss));
        }
      }
      txIov.setLength(2 * count - 1, mss);
      return true;
    }
    if (gsoType !== GSO_NONE) {
      stats.dropped++; // UDP fragmentation offload: not asked for
      return true;
    }
    if (flags & VNET_F_NEEDS_CSUM) completeChecksum(pkt, 0, n, rbuf.readUInt16LE(PKT - 4), rbuf.readUInt16LE(PKT - 2));
    if (version === 4) decrementTtl(pkt);
    else pkt[7] = pkt[7]! - 1;
    txIov.setLength(PLAIN, n);
    send(peer, PLAIN, 1, n, n);
    return true;
  };

  // ---- in: UDP → TUN --------------------------------------------------------------------------
  const batch = offloads.mmsg ? RX_BATCH : 1;
  const rx = Buffer.alloc(RX_BATCH * RX_BUF);
  const mmsg = new Uint32Array(RX_BATCH * 16); // struct mmsghdr[] (64 bytes each) as 32-bit words
  const rxIov = new IovTable(RX_BATCH, pin);
  const rxCtl = Buffer.alloc(RX_BATCH * 24); // CMSG_SPACE(sizeof(int)) each
  const rxAddr = pin(rx);
  const rxCtlAddr = pin(rxCtl);
  const mmsgAddr = pin(Buffer.from(mmsg.buffer));
  for (let j = 0; j < RX_BATCH; j++) {
    rxIov.set(j, rxAddr + j * RX_BUF, RX_BUF);
    setPointer(mmsg, j * 16 + 4, rxIov.addr + j * 16); // msg_iov
    mmsg[j * 16 + 6] = 1; // msg_iovlen
    setPointer(mmsg, j * 16 + 8, rxCtlAddr + j * 24); // msg_control
  }
  const vnet = Buffer.alloc(128); // [0,10): a plain packet (all zero); [10,20): the run being written
  const vnetAddr = pin(vnet);
  const wIov = new IovTable(MAX_RUN + 2, pin);
  const runOff = new Int32Array(MAX_RUN);
  const runLen = new Int32Array(MAX_RUN);
  let run: TcpRun | undefined;

  const writeTun = (entries: number, segments: number, bytes: number): void => {
    stats.syscalls++;
    if (raw.writev(tunFd, wIov.addr, entries) < 0) {
      stats.dropped += segments;
      return;
    }
    stats.tunWrites++;
    stats.packetsIn += segments;
    stats.bytesIn += bytes;
  };

  const writeSingle = (off: number, len: number): void => {
    const version = rx[off]! >> 4;
    if (version === 4 ? !decrementTtl(rx, off) : version !== 6 || rx[off + 7]! <= 1) {
      stats.dropped++;
      return;
    }
    if (version === 6) rx[off + 7] = rx[off + 7]! - 1;
    wIov.set(0, vnetAddr, VNET_HDR_LEN);
    wIov.set(1, rxAddr + off, len);
    writeTun(2, 1, len);
  };

  const flushRun = (): void => {
    const r = run;
    run = undefined;
    if (!r) return;
    if (r.count === 1) return writeSingle(runOff[0]!, runLen[0]!);
    closeRun(rx, r, vnet, VNET_HDR_LEN);
    if (r.v6) rx[r.first + 7] = rx[r.first + 7]! - 1;
    else decrementTtl(rx, r.first);
    const hdrLen = r.ipHl + r.tcpHl;
    wIov.set(0, vnetAddr + VNET_HDR_LEN, VNET_HDR_LEN);
    wIov.set(1, rxAddr + r.first, runLen[0]!);
    for (let i = 1; i < r.count; i++) wIov.set(i + 1, rxAddr + runOff[i]! + hdrLen, runLen[i]! - hdrLen);
    stats.superPacketsWritten++;
    writeTun(r.count + 1, r.count, hdrLen + r.payload);
  };

  const segment = (off: number, len: number): void => {
    if (len < 20 || (rx[off]! >> 4 !== 4 && rx[off]! >> 4 !== 6)) {
      stats.dropped++;
      return;
    }
    if (!offloads.coalesce) return writeSingle(off, len);
    if (run && run.count < MAX_RUN && extendRun(rx, run, off, len)) {
      runOff[run.count - 1] = off;
      runLen[run.count - 1] = len;
      return;
    }
    flushRun();
    const r = startRun(rx, off, len);
    if (!r) return writeSingle(off, len);
    run = r;
    runOff[0] = off;
    runLen[0] = len;
  };

  const fromUdp = (): boolean => {
    for (let j = 0; j < batch; j++) mmsg[j * 16 + 10] = 24; // msg_controllen, reset
    const got = raw.recvmmsg(sock, mmsgAddr, batch, MSG_DONTWAIT);
    stats.syscalls++;
    if (got <= 0) return false;
    stats.udpReceives++;
    for (let j = 0; j < got; j++) {
      const len = mmsg[j * 16 + 14]!; // msg_len
      const ctl = j * 24;
      const glued =
        mmsg[j * 16 + 10]! >= 20 && rxCtl.readInt32LE(ctl + 8) === SOL_UDP && rxCtl.readInt32LE(ctl + 12) === UDP_GRO;
      const segSize = glued ? rxCtl.readInt32LE(ctl + 16) : len;
      if (glued && len > segSize) stats.groDatagrams++;
      const base = j * RX_BUF;
      for (let o = 0; o < len; o += segSize) segment(base + o, Math.min(segSize, len - o));
    }
    flushRun(); // the next recvmmsg reuses the buffers the run points into
    return true;
  };

  const stopLoop = startPollLoop({
    tunFd,
    sock,
    stats,
    fromTun,
    fromUdp,
    burst: BURST,
    hotMs: HOT_MS,
    blockMs: BLOCK_MS,
  });

  return {
    stats,
    setPeers: (p) => {
      peers = new Map(
        [...p].map(([base, ip]) => {
          const sa = sockaddrIn(ip, port, 128); // larger than 64 bytes: see pin()
          return [base, { sa, addr: libc.addressOf(sa) }];
        }),
      );
    },
    stop: () => {
      stopLoop();
      libc.close(sock);
      pinned.length = 0; // a poll still running on a worker holds only pfds, passed as an argument
    },
  };
}

/** A pointer stored as two 32-bit words (little-endian) of a Uint32Array view. */
function setPointer(words: Uint32Array, index: number, address: number): void {
  words[index] = address >>> 0;
  words[index + 1] = (address / 4294967296) >>> 0;
}

/** An array of struct iovec in memory the kernel reads, written through a 32-bit view. */
class IovTable {
  readonly addr: number;
  private readonly words: Uint32Array;
  constructor(entries: number, pin: (b: Buffer) => number) {
    this.words = new Uint32Array(entries * 4);
    this.addr = pin(Buffer.from(this.words.buffer));
  }
  set(entry: number, address: number, len: number): void {
    setPointer(this.words, entry * 4, address);
    this.words[entry * 4 + 2] = len;
  }
  setLength(entry: number, len: number): void {
    this.words[entry * 4 + 2] = len;
  }
}
