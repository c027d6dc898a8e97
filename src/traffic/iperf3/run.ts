/**
 * One TCP throughput sample with iperf3 between two namespaces: a server in one, a client in the
 * other, host CPU read from /proc/stat around the client. The server is stopped by its PID.
 */
import { spawn } from 'node:child_process';
import { CnilabError, messageOf } from '../../lib/errors';
import { run, sleep, stopPid } from '../../lib/exec';
import { inNetns, type NetnsRef } from '../../lib/netns';
import { cpuSplit, readCpuTimes, type CpuSplit } from '../cpu/proc-stat';
import { parseIperf3Json, type Iperf3Summary } from './parse';

export interface TcpTestOptions {
  readonly client: NetnsRef;
  readonly server: NetnsRef;
  /** Address of the server inside its namespace. */
  readonly serverIp: string;
  readonly durationSec: number;
  /** Seconds at the start that iperf3 measures but discards (warm-up). */
  readonly omitSec: number;
  /** Parallel streams. Default: 1. */
  readonly streams?: number;
  readonly port?: number;
  readonly signal?: AbortSignal;
}

export interface TcpSample extends Iperf3Summary {
  readonly cpu: CpuSplit;
}

export interface Iperf3Server {
  readonly pid: number;
  stop(): Promise<void>;
}

export function startIperf3Server(ns: NetnsRef, bindIp: string, port = 5201): Iperf3Server {
  const [cmd, args] = inNetns(ns, 'iperf3', ['-s', '-B', bindIp, '-p', String(port)]);
  const child = spawn(cmd, args, { stdio: 'ignore' });
  if (child.pid === undefined) throw new CnilabError('TRAFFIC_FAILED', 'could not start iperf3 server');
  const pid = child.pid;
  return { pid, stop: () => stopPid(pid, 500) };
}

export async function tcpSample(o: TcpTestOptions): Promise<TcpSample> {
  const [cmd, args] = inNetns(o.client, 'iperf3', [
    '-c', o.serverIp, '-p', String(o.port ?? 5201), '-t', String(o.durationSec), '-O', String(o.omitSec), '-P', String(o.streams ?? 1), '-J',
  ]);
  for (let attempt = 0; ; attempt++) {
    const before = readCpuTimes();
    const r = await run(cmd, args, { check: false, signal: o.signal, timeoutMs: (o.durationSec + o.omitSec + 15) * 1000 });
    const after = readCpuTimes();
    try {
      return { ...parseIperf3Json(r.stdout), cpu: cpuSplit(before, after) };
    } catch (e) {
      // The server may not be listening yet: iperf3 fails at once with "unable to connect".
      if (attempt < 40 && /unable to connect|Connection refused/i.test(r.stdout + r.stderr)) {
        await sleep(50, o.signal);
        continue;
      }
      throw new CnilabError('TRAFFIC_FAILED', `iperf3 to ${o.serverIp}: ${messageOf(e)}`);
    }
  }
}
