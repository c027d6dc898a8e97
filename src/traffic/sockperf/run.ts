/**
 * Request/response latency with sockperf ping-pong (UDP, round-trip times): a server in one
 * namespace, the client in another, each optionally pinned to a CPU with taskset.
 */
import { spawn } from 'node:child_process';
import { CnilabError, messageOf } from '../../lib/errors';
import { run, sleep, stopPid } from '../../lib/exec';
import { inNetns, type NetnsRef } from '../../lib/netns';
import { parseSockperf, type LatencySummary } from './parse';

export const SOCKPERF_PORT = 11111;

export interface SockperfServer {
  readonly pid: number;
  stop(): Promise<void>;
}

const pinned = (cpu: number | undefined, command: string, args: readonly string[]): [string, string[]] =>
  cpu === undefined ? [command, [...args]] : ['taskset', ['-c', String(cpu), command, ...args]];

export function startSockperfServer(ns: NetnsRef, bindIp: string, o: { port?: number; cpu?: number } = {}): SockperfServer {
  const [cmd, args] = inNetns(ns, ...pinned(o.cpu, 'sockperf', ['server', '-i', bindIp, '-p', String(o.port ?? SOCKPERF_PORT)]));
  const child = spawn(cmd, args, { stdio: 'ignore' });
  if (child.pid === undefined) throw new CnilabError('TRAFFIC_FAILED', 'could not start sockperf server');
  const pid = child.pid;
  return { pid, stop: () => stopPid(pid, 500) };
}

export interface LatencyOptions {
  readonly client: NetnsRef;
  readonly serverIp: string;
  readonly durationSec: number;
  /** Message size in bytes. Default 64. */
  readonly messageBytes?: number;
  readonly port?: number;
  readonly cpu?: number;
  readonly signal?: AbortSignal;
}

export async function latencySample(o: LatencyOptions): Promise<LatencySummary> {
  const [cmd, args] = inNetns(
    o.client,
    ...pinned(o.cpu, 'sockperf', ['ping-pong', '--full-rtt', '-i', o.serverIp, '-p', String(o.port ?? SOCKPERF_PORT), '-t', String(o.durationSec), '-m', String(o.messageBytes ?? 64)]),
  );
  for (let attempt = 0; ; attempt++) {
    const r = await run(cmd, args, { check: false, signal: o.signal, timeoutMs: (o.durationSec + 15) * 1000 });
    const text = r.stdout + r.stderr;
    try {
      return parseSockperf(text);
    } catch (e) {
      // UDP has no connect: until the server listens, the client's warm-up gets ICMP errors or no
      // answer at all, and sockperf reports no observations.
      if (attempt < 20 && /Connection refused|no summary|observation count/i.test(messageOf(e) + text)) {
        await sleep(100, o.signal);
        continue;
      }
      throw new CnilabError('TRAFFIC_FAILED', `sockperf to ${o.serverIp}: ${messageOf(e)}`);
    }
  }
}
