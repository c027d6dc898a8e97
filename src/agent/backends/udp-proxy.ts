/**
 * The per-packet proxy of flannel's udp backend, the same loop its C code (proxy_amd64.c) ran:
 * poll() on the TUN and the UDP socket; for each packet from the TUN one read() and one sendto()
 * to the peer that owns the destination's subnet; for each datagram one recv() and one write() to
 * the TUN; the TTL decremented on the way, as a router does. No batching, no offloads. The system calls go through FFI on this process's main thread; only the
 * wait (poll) runs on a worker thread, so the event loop stays free between bursts.
 */
import { CnilabError } from '../../lib/errors';
import { AF_INET, EINTR, MSG_DONTWAIT, POLLIN, SOCK_CLOEXEC, SOCK_DGRAM, loadLibc, sockaddrIn } from '../../lib/libc';

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

/** Decrements an IPv4 header's TTL and patches its checksum (RFC 1624), as flannel's proxy does; false when the TTL runs out. */
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
  const sock = libc.socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (sock < 0) throw new CnilabError('AGENT_FAILED', `socket() failed (errno ${libc.errno()})`);
  const local = sockaddrIn(bindIp, port);
  if (libc.bind(sock, local, local.length) < 0) {
    const errno = libc.errno();
    libc.close(sock);
    throw new CnilabError('AGENT_FAILED', `bind(${bindIp}:${port}) failed (errno ${errno}): is another agent running on this node?`);
  }
  const stats: ProxyStats = { syscalls: 0, polls: 0, tunReads: 0, tunWrites: 0, udpSends: 0, udpReceives: 0, packetsOut: 0, packetsIn: 0, bytesOut: 0, bytesIn: 0, dropped: 0 };
  const size = 2 ** (32 - subnetLength);
  let peers = new Map<number, Buffer>(); // subnet base → sockaddr_in of the peer's proxy
  let stopped = false;
  const buf = Buffer.allocUnsafe(65536);
  const pfds = Buffer.alloc(16); // struct pollfd[2] {int fd; short events; short revents;}
  pfds.writeInt32LE(tunFd, 0);
  pfds.writeInt16LE(POLLIN, 4);
  pfds.writeInt32LE(sock, 8);
  pfds.writeInt16LE(POLLIN, 12);

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

  /**
   * flannel's loop: once poll() says either side is readable, alternate one TUN read and one UDP
   * receive while either moves a packet, bypassing poll() — an EAGAIN on the idle side is cheaper
   * than a poll. BURST caps a run so the agent's own work (renewals, watches) gets its turn, which
   * flannel's separate Go threads had.
   */
  const drain = (): void => {
    for (let i = 0; i < BURST; i++) {
      const out = fromTun();
      const back = fromUdp();
      if (!out && !back) break;
    }
  };

  // While traffic flows, poll() with a zero timeout answers at once on this thread; only an idle
  // proxy waits on a worker thread, leaving the event loop free for the agent's other work.
  const loop = (): void => {
    if (stopped) return;
    stats.polls++;
    stats.syscalls++;
    if (libc.poll(pfds, 2, 0) > 0) {
      drain();
      setImmediate(loop);
      return;
    }
    libc.pollAsync(pfds, 2, 1000, (err, ready) => {
      if (stopped) return;
      stats.polls++;
      stats.syscalls++;
      if ((err || ready < 0) && libc.errno() !== EINTR) return void setTimeout(loop, 100);
      drain();
      setImmediate(loop);
    });
  };
  loop();

  return {
    stats,
    setPeers: (p) => {
      peers = new Map([...p].map(([base, ip]) => [base, sockaddrIn(ip, port)]));
    },
    stop: () => {
      stopped = true;
      libc.close(sock);
    },
  };
}
