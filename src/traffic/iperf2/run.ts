/**
 * TCP request/response round trips with iperf 2's bounceback test (Debian 12's iperf 2.1.8): a server
 * in one namespace, the client in another, each optionally pinned to a CPU with taskset. The same tool
 * in both IP families (sockperf 3.7 takes IPv4 addresses only), forced to the family of the server's
 * address and checked after: a flow of the other family fails the sample.
 */
import { CnilabError, messageOf } from '../../lib/errors';
import { run, sleep } from '../../lib/exec';
import { inNetns, type NetnsRef } from '../../lib/netns';
import { pinned, startToolServer, type ToolServer } from '../server';
import { familyMismatch, parseBounceback, roundTrips, type RoundTrips } from './parse';

/** iperf 2's own default port. */
export const IPERF2_PORT = 5001;

/** Seconds per interval report: the first is the warm-up, left out of the mean. */
export const IPERF2_INTERVAL_SEC = 0.1;

const v6 = (ip: string): string[] => (ip.includes(':') ? ['-V'] : []);

/** `iperf -s` bound to `bindIp` (-V for an IPv6 one: iperf 2 opens an IPv4 socket without it). */
export function startIperf2Server(ns: NetnsRef, bindIp: string, o: { port?: number; cpu?: number } = {}): ToolServer {
  const [cmd, args] = inNetns(
    ns,
    ...pinned(o.cpu, 'iperf', ['-s', ...v6(bindIp), '-B', bindIp, '-p', String(o.port ?? IPERF2_PORT)]),
  );
  return startToolServer(cmd, args);
}

export interface BouncebackOptions {
  readonly client: NetnsRef;
  readonly serverIp: string;
  /** Seconds of the run (-t); its first interval (IPERF2_INTERVAL_SEC) is left out. */
  readonly durationSec: number;
  /** Message size in bytes (-l). Default 64. */
  readonly messageBytes?: number;
  readonly port?: number;
  readonly cpu?: number;
  readonly signal?: AbortSignal;
}

/** The client's arguments: back to back (period 0), intervals for the warm-up's cut, IPv6 forced by -V. */
export function bouncebackArgs(o: Omit<BouncebackOptions, 'client' | 'signal' | 'cpu'>): string[] {
  return [
    '-c',
    o.serverIp,
    ...v6(o.serverIp),
    '-p',
    String(o.port ?? IPERF2_PORT),
    '--bounceback',
    '-l',
    String(o.messageBytes ?? 64),
    '--bounceback-period',
    '0',
    '-t',
    String(o.durationSec),
    '-i',
    String(IPERF2_INTERVAL_SEC),
    '-e',
  ];
}

/** One bounceback run: its round trips after the first interval; the flow's family and address checked. */
export async function bouncebackSample(o: BouncebackOptions): Promise<RoundTrips> {
  const [cmd, args] = inNetns(o.client, ...pinned(o.cpu, 'iperf', bouncebackArgs(o)));
  for (let attempt = 0; ; attempt++) {
    // iperf 2 exits 0 when it cannot connect: its output says so (parseBounceback refuses it).
    const r = await run(cmd, args, { check: false, signal: o.signal, timeoutMs: (o.durationSec + 15) * 1000 });
    const text = r.stdout + r.stderr;
    try {
      const b = parseBounceback(text);
      const mismatch = familyMismatch(b, o.serverIp);
      if (mismatch) throw new CnilabError('TRAFFIC_FAILED', `iperf2 to ${o.serverIp}: ${mismatch}`);
      if (b.messageBytes !== (o.messageBytes ?? 64))
        throw new Error(`bounced ${b.messageBytes} B messages, not ${o.messageBytes ?? 64} B`);
      return roundTrips(b, IPERF2_INTERVAL_SEC);
    } catch (e) {
      if (e instanceof CnilabError) throw e;
      // Until the server listens, the connect is refused: that passes within milliseconds.
      if (attempt < 40 && /connect failed: Connection refused/i.test(text)) {
        await sleep(50, o.signal);
        continue;
      }
      throw new CnilabError('TRAFFIC_FAILED', `iperf2 to ${o.serverIp}: ${messageOf(e)}`);
    }
  }
}
