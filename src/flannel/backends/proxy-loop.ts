/**
 * What both user-space proxies (udp-proxy.ts, udp-offload-proxy.ts) share: their UDP socket and
 * the loop that waits for the TUN or the socket to have something and then lets the proxy drain
 * both. While traffic flows, poll() answers at once on the agent's own thread; an idle proxy waits
 * on a worker thread, leaving the event loop free for the agent's other work (renewals, watches).
 */
import { CnilabError } from '../../lib/errors';
import { AF_INET, EAGAIN, EINTR, POLLIN, SOCK_CLOEXEC, SOCK_DGRAM, loadLibc, sockaddrIn } from './libc';

/** A UDP socket bound to the node's underlay address and the tunnel's port. */
export function openUdpSocket(bindIp: string, port: number): number {
  const libc = loadLibc();
  const sock = libc.socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (sock < 0) throw new CnilabError('AGENT_FAILED', `socket() failed (errno ${libc.errno()})`);
  const local = sockaddrIn(bindIp, port);
  if (libc.bind(sock, local, local.length) < 0) {
    const errno = libc.errno();
    libc.close(sock);
    throw new CnilabError(
      'AGENT_FAILED',
      `bind(${bindIp}:${port}) failed (errno ${errno}): is another agent running on this node?`,
    );
  }
  return sock;
}

export interface PollLoopOptions {
  readonly tunFd: number;
  readonly sock: number;
  readonly stats: { polls: number; syscalls: number };
  /** One step out (TUN → UDP) and in (UDP → TUN); each false when its side had nothing (EAGAIN). */
  readonly fromTun: () => boolean;
  readonly fromUdp: () => boolean;
  /** Most steps per wake-up before the event loop gets its turn (renewals, watches). */
  readonly burst: number;
  /**
   * For this long after the last packet, wait in poll() on this thread (at most `blockMs` at a
   * time) instead of going idle: under traffic a worker-thread wake-up costs more than the gap it
   * fills. 0: go idle as soon as a poll finds nothing.
   */
  readonly hotMs?: number;
  readonly blockMs?: number;
}

/** Starts the loop; the returned function stops it. */
export function startPollLoop(o: PollLoopOptions): () => void {
  const libc = loadLibc();
  const pfds = Buffer.alloc(16); // struct pollfd[2] {int fd; short events; short revents;}
  pfds.writeInt32LE(o.tunFd, 0);
  pfds.writeInt16LE(POLLIN, 4);
  pfds.writeInt32LE(o.sock, 8);
  pfds.writeInt16LE(POLLIN, 12);
  const hotMs = o.hotMs ?? 0;
  let lastBusy = 0;
  let stopped = false;
  // flannel's loop: once poll() says either side is readable, alternate one step out and one in
  // while either moves something, bypassing poll() — an EAGAIN on the idle side is cheaper than a
  // poll. The burst cap stands in for flannel's separate Go threads doing the control work.
  const drain = (): void => {
    for (let i = 0; i < o.burst; i++) {
      const out = o.fromTun();
      const back = o.fromUdp();
      if (!out && !back) return;
      lastBusy = Date.now();
    }
  };
  const loop = (): void => {
    if (stopped) return;
    o.stats.polls++;
    o.stats.syscalls++;
    const hot = Date.now() - lastBusy < hotMs;
    if (libc.poll(pfds, 2, hot ? (o.blockMs ?? 0) : 0) > 0) {
      drain();
      setImmediate(loop);
      return;
    }
    if (hot) return void setImmediate(loop);
    libc.pollAsync(pfds, 2, 1000, (err, ready) => {
      if (stopped) return;
      o.stats.polls++;
      o.stats.syscalls++;
      if ((err || ready < 0) && libc.errno() !== EINTR && libc.errno() !== EAGAIN) return void setTimeout(loop, 100);
      drain();
      setImmediate(loop);
    });
  };
  loop();
  return () => {
    stopped = true;
  };
}
