/**
 * The crr client: TCP connect, request, response, close — again and again, a few connections in
 * flight at once. What it tallies answers two questions: how fast (connections per second, and
 * each connect's time: the first packet's round trip through whatever NAT sits on the way) and
 * where to (which server answered, and the source address it saw: a Service's spread, its
 * masquerade). A refused connection (a Service without endpoints) counts as refused, never retried.
 */
import { connect } from 'node:net';

export interface CrrOptions {
  readonly host: string;
  readonly port: number;
  /** Connections to make; with `durationSec`, the most it makes. */
  readonly count: number;
  /** Stop starting new ones after this many seconds. Default: none. */
  readonly durationSec?: number;
  /** Connections in flight at once. Default: 1. */
  readonly concurrency?: number;
  /** A connection that has not answered by then counts as timed out. Default: 2000 ms. */
  readonly timeoutMs?: number;
  /** Stop once a connection is answered by the server of this name (a Service's new endpoint). */
  readonly until?: string;
  /** Start a connection at most this often, ms (a paced probe leaves the CPU to what it watches). Default: 0. */
  readonly intervalMs?: number;
  /**
   * And at least this % of the time since the first answer: a probe that waits long for a change
   * spaces its connections out (1: within 1% of the wait), rather than filling the ephemeral ports
   * with TIME_WAIT. Default: 0.
   */
  readonly intervalPct?: number;
  /** Called once, at the first answered connection (the probe is running). */
  readonly onFirst?: () => void;
}

export interface CrrResult {
  /** Connections that answered. */
  readonly ok: number;
  readonly refused: number;
  readonly timedOut: number;
  /** Other failures (reset, unreachable), by error code. */
  readonly failed: Readonly<Record<string, number>>;
  /** Answers by the server's name. */
  readonly servers: Readonly<Record<string, number>>;
  /** Answers by the client address (without its port) the server saw. */
  readonly sources: Readonly<Record<string, number>>;
  /** Each answered connection's connect time (SYN to established), ms, in order. */
  readonly connectMs: readonly number[];
  /** Wall time of the whole run, s. */
  readonly elapsedSec: number;
  /** Answered connections per second. */
  readonly perSec: number;
  /** With `until`: when that server answered first, ms since the epoch (sub-ms: performance's clock). */
  readonly untilAt?: number;
}

type One = { kind: 'ok'; server: string; source: string; connectMs: number } | { kind: string };

/** One connection: connect, write a line, read the answer line, close. */
function once(o: CrrOptions): Promise<One> {
  return new Promise((resolve) => {
    const t0 = process.hrtime.bigint();
    let connectMs = 0;
    let data = '';
    let done = false;
    const finish = (r: One): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      resolve(r);
    };
    const sock = connect({ host: o.host, port: o.port, noDelay: true });
    const timer = setTimeout(() => finish({ kind: 'timeout' }), o.timeoutMs ?? 2000);
    sock.on('connect', () => {
      connectMs = Number(process.hrtime.bigint() - t0) / 1e6;
      sock.write('crr\n');
    });
    sock.on('data', (d: Buffer) => {
      data += d.toString();
      const nl = data.indexOf('\n');
      if (nl < 0) return;
      const [server = '', peer = ''] = data.slice(0, nl).split(' ');
      const source = peer.slice(0, peer.lastIndexOf(':'));
      finish({ kind: 'ok', server, source, connectMs });
    });
    sock.on('error', (e: NodeJS.ErrnoException) =>
      finish({ kind: e.code === 'ECONNREFUSED' ? 'refused' : (e.code ?? 'error') }),
    );
    sock.on('close', () => finish({ kind: 'closed' }));
  });
}

export async function crr(o: CrrOptions): Promise<CrrResult> {
  const servers: Record<string, number> = {};
  const sources: Record<string, number> = {};
  const failed: Record<string, number> = {};
  const connectMs: number[] = [];
  let [ok, refused, timedOut, started] = [0, 0, 0, 0];
  let untilAt: number | undefined;
  let firstAt: number | undefined;
  const t0 = performance.now();
  const deadline = o.durationSec === undefined ? Infinity : t0 + o.durationSec * 1000;
  const worker = async (): Promise<void> => {
    while (started < o.count && performance.now() < deadline && untilAt === undefined) {
      started++;
      const begun = performance.now();
      const r = await once(o);
      if ('server' in r) {
        if (ok === 0) {
          firstAt = performance.now();
          o.onFirst?.();
        }
        if (r.server === o.until) untilAt ??= performance.timeOrigin + performance.now();
        ok++;
        servers[r.server] = (servers[r.server] ?? 0) + 1;
        sources[r.source] = (sources[r.source] ?? 0) + 1;
        connectMs.push(r.connectMs);
      } else if (r.kind === 'refused') refused++;
      else if (r.kind === 'timeout') timedOut++;
      else failed[r.kind] = (failed[r.kind] ?? 0) + 1;
      const since = firstAt === undefined ? 0 : performance.now() - firstAt;
      const spacing = Math.max(o.intervalMs ?? 0, (since * (o.intervalPct ?? 0)) / 100);
      const rest = spacing - (performance.now() - begun);
      if (rest > 0 && untilAt === undefined) await new Promise((r) => setTimeout(r, rest));
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, o.concurrency ?? 1) }, worker));
  const elapsedSec = (performance.now() - t0) / 1000;
  return {
    ok,
    refused,
    timedOut,
    failed,
    servers,
    sources,
    connectMs,
    elapsedSec,
    perSec: ok / elapsedSec,
    ...(untilAt !== undefined ? { untilAt } : {}),
  };
}
