/**
 * The probe matrix run in a lab: the probe server in every pod, then from every pod at once the
 * probes of every other pod (TCP and UDP, PROBE_PORTS), compared with the oracle over the policies
 * and pod labels the API server holds. Servers stop when it ends, whatever happens.
 */
import { join } from 'node:path';
import { once } from 'node:events';
import type { Pod } from '../apiserver/model';
import { apiRequest } from '../apiserver/client';
import { CnilabError } from '../lib/errors';
import { run, startWatched, stopPid } from '../lib/exec';
import { inNetns } from '../lib/netns';
import { expectedCells, matrixOf, PROBE_PORTS, type Matrix } from '../policy/matrix';
import type { NetworkPolicy } from '../policy/model';
import type { ProbeResult } from '../policy/probe/main';
import { requireState, type PodState } from './state';

const PROBE_MAIN = join(__dirname, '..', 'policy', 'probe', 'main.js');

export interface ProbeOptions {
  /** How long a denied probe waits, ms. Default 1000. */
  readonly timeoutMs?: number;
  readonly ports?: readonly number[];
  /** Only these pods (default: all). */
  readonly pods?: readonly string[];
}

/** Starts the probe server in each of `pods`; resolves once all listen, with their stoppers. */
export async function startProbeServers(
  pods: readonly PodState[],
  ports: readonly number[],
): Promise<() => Promise<void>> {
  const pids: number[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(pids.map((p) => stopPid(p)));
  };
  try {
    await Promise.all(
      pods.map(async (p) => {
        const [cmd, args] = inNetns({ name: p.netns }, process.execPath, [
          PROBE_MAIN,
          'serve',
          '--ports',
          ports.join(','),
        ]);
        const child = startWatched(cmd, args);
        pids.push(child.pid!);
        let out = '';
        let err = '';
        child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
        await new Promise<void>((resolve, reject) => {
          child.stdout!.on('data', (d: Buffer) => {
            out += d.toString();
            if (out.includes('listening\n')) resolve();
          });
          once(child, 'exit').then(
            () => reject(new CnilabError('EXEC_FAILED', `probe server in pod ${p.name} exited: ${err.trim()}`)),
            reject,
          );
        });
      }),
    );
  } catch (e) {
    await stop();
    throw e;
  }
  return stop;
}

/**
 * Probes every target from pod `from`'s namespace; the results in order. With `payload`, TCP writes
 * it once connected and UDP sends it.
 */
export async function probeFrom(
  from: PodState,
  targets: readonly { ip: string; port: number; protocol: 'tcp' | 'udp' }[],
  timeoutMs: number,
  payload?: string,
): Promise<ProbeResult[]> {
  const [cmd, args] = inNetns({ name: from.netns }, process.execPath, [
    PROBE_MAIN,
    'probe',
    '--timeout-ms',
    String(timeoutMs),
    ...(payload !== undefined ? ['--payload', payload] : []),
  ]);
  const r = await run(cmd, args, { input: JSON.stringify(targets), timeoutMs: timeoutMs * 4 + 30_000 });
  return JSON.parse(r.stdout) as ProbeResult[];
}

/** One target watched: how many tries got through. */
export interface WatchResult {
  readonly ip: string;
  readonly port: number;
  readonly protocol: 'tcp' | 'udp';
  readonly attempts: number;
  readonly allowed: number;
}

/**
 * Tries each target from pod `from` every `everyMs` for `ms` (each try bounded by `everyMs`);
 * `started` resolves once the tries have begun, `done` with what got through; `stop()` ends the
 * tries early (SIGTERM: the tool finishes its tries in flight and answers).
 */
export function watchFrom(
  from: PodState,
  targets: readonly { ip: string; port: number; protocol: 'tcp' | 'udp' }[],
  ms: number,
  everyMs = 50,
): { started: Promise<void>; done: Promise<WatchResult[]>; stop: () => void } {
  let begun: () => void = () => undefined;
  const started = new Promise<void>((resolve) => (begun = resolve));
  const [cmd, args] = inNetns({ name: from.netns }, process.execPath, [
    PROBE_MAIN,
    'watch',
    '--targets',
    JSON.stringify(targets),
    '--ms',
    String(ms),
    '--every',
    String(everyMs),
  ]);
  const child = startWatched(cmd, args);
  let out = '';
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
    if (out.includes('watching\n')) begun();
  });
  const done = once(child, 'exit').then(([code]) => {
    if (code !== 0)
      throw new CnilabError('EXEC_FAILED', `probe watch in pod ${from.name} exited ${String(code)}: ${err.trim()}`);
    return JSON.parse(out.trim().split('\n').pop()!) as WatchResult[];
  });
  return { started, done, stop: () => void child.kill('SIGTERM') };
}

/** The lab's matrix now: the API server's policies and pods, every pair probed. */
export async function probeMatrix(lab: string, o: ProbeOptions = {}): Promise<Matrix & { policies: number }> {
  const state = requireState(lab);
  const ports = o.ports ?? PROBE_PORTS;
  const timeoutMs = o.timeoutMs ?? 1000;
  const { pods: apiPods } = await apiRequest<{ pods: Pod[] }>(lab, 'GET', '/api/pods');
  const { policies } = await apiRequest<{ policies: NetworkPolicy[] }>(lab, 'GET', '/api/policies');
  const chosen = state.pods.filter((p) => !o.pods || o.pods.includes(p.name));
  const api = chosen.map((p) => {
    const a = apiPods.find((x) => x.name === p.name);
    if (!a) throw new CnilabError('POD_NOT_FOUND', `pod ${p.name} is not registered with the API server`);
    return a;
  });
  const cells = expectedCells(policies, api, ports);
  const stop = await startProbeServers(chosen, ports);
  try {
    const byPod = new Map(chosen.map((p) => [p.name, p]));
    const results = await Promise.all(
      chosen.map(async (from) => {
        const mine = cells.filter((c) => c.from === from.name);
        const got = await probeFrom(
          from,
          mine.map((c) => ({ ip: byPod.get(c.to)!.ip, port: c.port, protocol: c.protocol })),
          timeoutMs,
        );
        return mine.map((c, i) => ({ ...c, observed: got[i]!.allowed }));
      }),
    );
    return {
      ...matrixOf(
        chosen.map((p) => p.name),
        results.flat(),
      ),
      policies: policies.length,
    };
  } finally {
    await stop();
  }
}
