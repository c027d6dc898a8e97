/**
 * Request/response latency with sockperf ping-pong (UDP, round-trip times): a server in one
 * namespace, the client in another, each optionally pinned to a CPU with taskset.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CnilabError, messageOf } from '../../lib/errors';
import { run, sleep } from '../../lib/exec';
import { inNetns, type NetnsRef } from '../../lib/netns';
import { pinned, startToolServer, type ToolServer } from '../server';
import { latencyWindows, parseSockperf, type LatencyWindow } from './parse';

export const SOCKPERF_PORT = 11111;

export function startSockperfServer(ns: NetnsRef, bindIp: string, o: { port?: number; cpu?: number } = {}): ToolServer {
  const [cmd, args] = inNetns(
    ns,
    ...pinned(o.cpu, 'sockperf', ['server', '-i', bindIp, '-p', String(o.port ?? SOCKPERF_PORT)]),
  );
  return startToolServer(cmd, args);
}

export interface LatencyOptions {
  readonly client: NetnsRef;
  readonly serverIp: string;
  /** Samples wanted: the run is cut into this many windows of `windowSec` each. */
  readonly windows: number;
  readonly windowSec: number;
  /** sockperf's -t, when the windows do not decide it. */
  readonly runSec?: number;
  /** Message size in bytes. Default 64. */
  readonly messageBytes?: number;
  readonly port?: number;
  readonly cpu?: number;
  readonly signal?: AbortSignal;
  /** Called when sockperf starts measuring (after its fixed 2 s pause: SOCKPERF_PAUSE_SEC). */
  readonly onStarted?: () => void;
}

/** sockperf's client pauses this long after it starts, before it sends anything. */
export const SOCKPERF_PAUSE_SEC = 2;

/** sockperf discards its first 400 ms and last 50 ms; the run is that much longer than the windows, rounded up. */
export const latencyRunSec = (o: Pick<LatencyOptions, 'windows' | 'windowSec'>): number =>
  Math.ceil(o.windows * o.windowSec + 0.45);

/**
 * One sockperf run, cut into windows: every sockperf start costs about 2 s of its own (its
 * warm-up stage), so N separate runs would cost 2N seconds more than one run cut into N.
 */
export async function latencySamples(o: LatencyOptions): Promise<LatencyWindow[]> {
  const dir = mkdtempSync(join(tmpdir(), 'cnilab-sockperf-'));
  const log = join(dir, 'full.csv');
  const sec = o.runSec ?? latencyRunSec(o);
  const [cmd, args] = inNetns(
    o.client,
    ...pinned(o.cpu, 'sockperf', [
      'ping-pong',
      '--full-rtt',
      '--full-log',
      log,
      '-i',
      o.serverIp,
      '-p',
      String(o.port ?? SOCKPERF_PORT),
      '-t',
      String(sec),
      '-m',
      String(o.messageBytes ?? 64),
      // Its dummy warm-up messages go out before the pause; the discarded first 400 ms warm the path.
      '--dontwarmup',
    ]),
  );
  try {
    for (let attempt = 0; ; attempt++) {
      const onStdout = (chunk: string): void => {
        if (chunk.includes('Starting test')) o.onStarted?.();
      };
      const r = await run(cmd, args, { check: false, signal: o.signal, timeoutMs: (sec + 15) * 1000, onStdout });
      const text = r.stdout + r.stderr;
      try {
        parseSockperf(text); // sockperf's own verdict: an error, or no summary
        return latencyWindows(readFileSync(log, 'utf8'), o.windows);
      } catch (e) {
        // UDP has no connect: until the server listens, sockperf reports no observations.
        if (attempt < 20 && /Connection refused|no summary|observation count/i.test(messageOf(e) + text)) {
          await sleep(100, o.signal);
          continue;
        }
        throw new CnilabError('TRAFFIC_FAILED', `sockperf to ${o.serverIp}: ${messageOf(e)}`);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
