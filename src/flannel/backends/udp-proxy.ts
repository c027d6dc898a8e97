/**
 * The per-packet proxy of flannel's udp backend, the same loop its C code (proxy_amd64.c) ran:
 * poll() on the TUN and the UDP socket; for each packet from the TUN one read() and one sendto()
 * to the peer that owns the destination's subnet; for each datagram one recv() and one write() to
 * the TUN; the TTL decremented on the way, as a router does. No batching, no offloads. The system calls go through
 * FFI on this process's main thread; only the
 * wait (poll) runs on a worker thread, so the event loop stays free between bursts.
 */
import { MSG_DONTWAIT, loadLibc, sockaddrIn } from './libc';
import { openUdpSocket, startPollLoop } from './proxy-loop';

/** Counters of the data path. `syscalls` counts every call into the kernel, failed ones too. */
export interface ProxyStats {
  syscalls: number;
  polls: number;
  tunReads: number;
  tunWrites: number;
  udpSends: number;
  udpReceives: number;
  packetsOut: number;
  packetsIn: number;
  bytesOut: number;
  bytesIn: number;
  dropped: number;
}

export interface Proxy {
  readonly stats: ProxyStats;
  /** Peers: subnet base address (as an integer) → the peer's underlay address. */
  setPeers(peers: ReadonlyMap<number, string>): void;
  stop(): void;
}

/**
 * Decrements an IPv4 header's TTL and patches its checksum (RFC 1624), as flannel's proxy does; false when the TTL
 * runs out.
 */
export function decrementTtl(ip: Buffer, off = 0): boolean {
  const ttl = ip[off + 8]!;
  if (ttl <= 1) return false;
  ip[off + 8] = ttl - 1;
  const sum = ip.readUInt16BE(off + 10) + 0x100; // the TTL is the high byte of its 16-bit word
  ip.writeUInt16BE((sum & 0xffff) + (sum >>> 16), off + 10);
  return true;
}

/** Most packets handled per wake-up before yielding to the event loop (renewals, watches). */
const BURST = 256;

export function startProxy(tunFd: number, bindIp: string, port: number, subnetLength: number): Proxy {
  const libc = loadLibc();
  const sock = openUdpSocket(bindIp, port);
  const stats: ProxyStats = {
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
  };
  const size = 2 ** (32 - subnetLength);
  let peers = new Map<number, Buffer>(); // subnet base → sockaddr_in of the peer's proxy
  const buf = Buffer.allocUnsafe(65536);

  const fromTun = (): boolean => {
    const n = libc.read(tunFd, buf, buf.length);
    stats.syscalls++;
    if (n < 0) return false; // EAGAIN: drained
    stats.tunReads++;
    const peer = n >= 20 ? peers.get(Math.floor(buf.readUInt32BE(16) / size) * size) : undefined;
    if (!peer || !decrementTtl(buf)) {
      stats.dropped++; // flannel answers an unknown destination with ICMP net unreachable; cnilab drops it
      return true;
    }
    stats.syscalls++;
    if (libc.sendto(sock, buf, n, 0, peer, peer.length) < 0) stats.dropped++;
    else {
      stats.udpSends++;
      stats.packetsOut++;
      stats.bytesOut += n;
    }
    return true;
  };

  const fromUdp = (): boolean => {
    const n = libc.recv(sock, buf, buf.length, MSG_DONTWAIT);
    stats.syscalls++;
    if (n < 0) return false;
    stats.udpReceives++;
    if (n < 20 || buf[0]! >> 4 !== 4 || !decrementTtl(buf)) {
      stats.dropped++;
      return true;
    }
    stats.syscalls++;
    if (libc.write(tunFd, buf, n) < 0) stats.dropped++;
    else {
      stats.tunWrites++;
      stats.packetsIn++;
      stats.bytesIn += n;
    }
    return true;
  };

  const stopLoop = startPollLoop({ tunFd, sock, stats, fromTun, fromUdp, burst: BURST });

  return {
    stats,
    setPeers: (p) => {
      peers = new Map([...p].map(([base, ip]) => [base, sockaddrIn(ip, port)]));
    },
    stop: () => {
      stopLoop();
      libc.close(sock);
    },
  };
}
