/**
 * iperf3 between two namespaces: a server in one, a client in the other, host CPU read from
 * /proc/stat around the client. The server is stopped by its PID.
 */
import { CnilabError, messageOf } from '../../lib/errors';
import { run, sleep } from '../../lib/exec';
import { inNetns, type NetnsRef } from '../../lib/netns';
import { startToolServer, type ToolServer } from '../server';
import { cpuSplit, readCpuTimes, type CpuSplit } from '../cpu/proc-stat';
import {
  familyMismatch,
  parseIperf3Json,
  parseIperf3UdpJson,
  type Iperf3Summary,
  type Iperf3UdpSummary,
} from './parse';

interface ClientOptions {
  readonly client: NetnsRef;
  /** Address of the server inside its namespace. */
  readonly serverIp: string;
  readonly durationSec: number;
  /** Seconds at the start that iperf3 measures but discards. Default 0. */
  readonly omitSec?: number;
  readonly port?: number;
  /** iperf3 -A: `client,server` CPU numbers (e.g. "0,1"), so runs do not wander between cores. */
  readonly affinity?: string;
  readonly signal?: AbortSignal;
}

export interface TcpTestOptions extends ClientOptions {
  /** Parallel streams. Default: 1. */
  readonly streams?: number;
}

export interface UdpTestOptions extends ClientOptions {
  /** Target rate in bit/s; 0 = as fast as the sender can. */
  readonly rateBps: number;
  /** UDP payload bytes per datagram. */
  readonly lengthBytes?: number;
}

export interface TcpSample extends Iperf3Summary {
  readonly cpu: CpuSplit;
}

export interface UdpSample extends Iperf3UdpSummary {
  readonly cpu: CpuSplit;
}

/** iperf3's own default port. */
export const IPERF3_PORT = 5201;

export function startIperf3Server(ns: NetnsRef, bindIp: string, port = IPERF3_PORT): ToolServer {
  const [cmd, args] = inNetns(ns, 'iperf3', ['-s', '-B', bindIp, '-p', String(port)]);
  return startToolServer(cmd, args);
}

export async function tcpSample(o: TcpTestOptions): Promise<TcpSample> {
  return client(o, ['-P', String(o.streams ?? 1)], parseIperf3Json);
}

export async function udpSample(o: UdpTestOptions): Promise<UdpSample> {
  return client(
    o,
    ['-u', '-b', String(Math.round(o.rateBps)), ...(o.lengthBytes ? ['-l', String(o.lengthBytes)] : [])],
    parseIperf3UdpJson,
  );
}

async function client<T>(
  o: ClientOptions,
  extra: readonly string[],
  parse: (text: string) => T,
): Promise<T & { cpu: CpuSplit }> {
  // The family is forced, and checked after (familyMismatch): a fallback to the other family fails the sample.
  const [cmd, args] = inNetns(o.client, 'iperf3', [
    o.serverIp.includes(':') ? '-6' : '-4',
    '-c',
    o.serverIp,
    '-p',
    String(o.port ?? IPERF3_PORT),
    '-t',
    String(o.durationSec),
    '-O',
    String(o.omitSec ?? 0),
    ...(o.affinity ? ['-A', o.affinity] : []),
    ...extra,
    '-J',
  ]);
  for (let attempt = 0; ; attempt++) {
    const before = readCpuTimes();
    const r = await run(cmd, args, {
      check: false,
      signal: o.signal,
      timeoutMs: (o.durationSec + (o.omitSec ?? 0) + 15) * 1000,
    });
    const after = readCpuTimes();
    try {
      const summary = parse(r.stdout);
      const mismatch = familyMismatch(r.stdout, o.serverIp);
      if (mismatch) throw new CnilabError('TRAFFIC_FAILED', `iperf3 to ${o.serverIp}: ${mismatch}`);
      return { ...summary, cpu: cpuSplit(before, after) };
    } catch (e) {
      if (e instanceof CnilabError) throw e;
      // The server may not be listening yet ("unable to connect"), or still busy with the last
      // client ("the server is busy running a test"): both pass within milliseconds.
      if (attempt < 40 && /unable to connect|Connection refused|server is busy/i.test(r.stdout + r.stderr)) {
        await sleep(50, o.signal);
        continue;
      }
      throw new CnilabError('TRAFFIC_FAILED', `iperf3 to ${o.serverIp}: ${messageOf(e)}`);
    }
  }
}
