/**
 * The mtu test, measured in running labs, one lab at a time. In each: the client pod's eth0 MTU (its namespace), a
 * ping to the server pod until it answers (the path is up), then the search (search.ts) with `ping -M do -s SIZE -c
 * 1` from the client's namespace. Before every probe the client's route cache is flushed: a frag-needed an earlier
 * probe brought would otherwise make the kernel refuse every larger one itself (EMSGSIZE), and a black hole after a
 * loud hop would read as loud. It is flushed once more at the end, so the lab keeps no path MTU the test taught it.
 */
import { POD_IF } from '../../arch/architecture';
import { CnilabError } from '../../lib/errors';
import { execError } from '../../lib/exec';
import { ip, ipJson, runIn, type NetnsRef } from '../../lib/netns';
import { podNetns } from '../../lab/names';
import type { LabState } from '../../lab/state';
import type { AfterMeasureOptions } from '../after/test';
import { failureMode, ICMP_ECHO_OVERHEAD, parsePing, type ProbeOutcome } from './ping-outcome';
import type { MtuCell, MtuSettings } from './plan';
import type { MtuFigures } from './schema';
import { searchLargest, type Probe } from './search';

export interface MtuLab {
  readonly cell: MtuCell;
  readonly state: LabState;
}

/** Seconds a probe waits for its answer: far above a lab's round trip, and what each black-hole probe costs. */
export const PROBE_WAIT_SEC = 0.5;
/** Pings of the default size before the path counts as down (each waits a second). */
const REACH_TRIES = 5;
const REACH_PAYLOAD = 56;

async function flushRouteCache(ns: NetnsRef, signal?: AbortSignal): Promise<void> {
  await ip(ns, ['route', 'flush', 'cache'], { signal });
}

/** One DF ping of `payload` bytes from `ns` to `to`, waiting `waitSec`, after a flush of the sender's route cache. */
export function dfPing(ns: NetnsRef, to: string, waitSec: number, signal?: AbortSignal): Probe {
  return async (payload) => {
    await flushRouteCache(ns, signal);
    const argv = ['-n', '-M', 'do', '-s', String(payload), '-c', '1', '-W', String(waitSec), to];
    const r = await runIn(ns, 'ping', argv, { signal, check: false });
    // 0: answered; 1: no answer, or an error the path sent back. Anything else is ping's own failure (a bad
    // argument), never to be read as a black hole.
    if (r.code !== 0 && r.code !== 1) throw execError(r);
    return parsePing(r.stdout, r.stderr);
  };
}

async function reachable(ns: NetnsRef, to: string, signal?: AbortSignal): Promise<ProbeOutcome> {
  let last: ProbeOutcome = { kind: 'silent' };
  for (let i = 0; i < REACH_TRIES; i++) {
    last = await dfPing(ns, to, 1, signal)(REACH_PAYLOAD);
    if (last.kind === 'reply') break;
  }
  return last;
}

export async function measureOne(lab: MtuLab, signal?: AbortSignal): Promise<MtuFigures> {
  const t0 = performance.now();
  const { cell, state } = lab;
  const ns: NetnsRef = { name: podNetns(state.lab, cell.client) };
  const server = state.pods.find((p) => p.name === cell.server);
  if (!server) throw new CnilabError('POD_NOT_FOUND', `mtu: lab ${state.lab} has no pod ${cell.server}`);
  const [link] = await ipJson<{ mtu: number }[]>(ns, ['link', 'show', POD_IF]);
  const podMtu = link!.mtu;
  try {
    const reach = await reachable(ns, server.ip, signal);
    if (reach.kind !== 'reply')
      throw new CnilabError(
        'TRAFFIC_FAILED',
        `mtu: ${cell.arch.name}: ${cell.client} got no answer from ${cell.server} (${server.ip}) to ${REACH_TRIES} ` +
          `pings of ${REACH_PAYLOAD} bytes (${reach.kind === 'other' ? reach.line : reach.kind}); is the lab's path up?`,
      );
    const probe = dfPing(ns, server.ip, PROBE_WAIT_SEC, signal);
    const found = await searchLargest(probe, { floor: REACH_PAYLOAD, ceiling: podMtu - ICMP_ECHO_OVERHEAD });
    const largestPacket = found.largestPayload + ICMP_ECHO_OVERHEAD;
    const a = found.above;
    return {
      arch: cell.arch.name,
      family: cell.arch.family,
      encryption: cell.arch.encryption?.design ?? null,
      lab: state.lab,
      underlayMtu: cell.underlayMtu,
      client: cell.client,
      server: cell.server,
      podMtu,
      largestPayload: found.largestPayload,
      largestPacket,
      overhead: cell.underlayMtu - largestPacket,
      above: {
        outcome: a.kind,
        mode: failureMode(a) ?? null,
        reportedMtu: (a.kind === 'emsgsize' || a.kind === 'frag-needed' ? a.mtu : undefined) ?? null,
        from: a.kind === 'frag-needed' ? a.from : null,
        line: a.kind === 'other' ? a.line : null,
      },
      probes: found.probes,
      sec: Math.round(performance.now() - t0) / 1000,
    };
  } finally {
    await flushRouteCache(ns).catch(() => undefined);
  }
}

/** Every lab's figures, one lab after another (nothing else in flight: the lab's path is the probe's alone). */
export async function measureMtu(
  labs: readonly MtuLab[],
  _s: MtuSettings,
  o: AfterMeasureOptions,
): Promise<MtuFigures[]> {
  const out: MtuFigures[] = [];
  for (const lab of labs) {
    o.progress(`mtu: ${lab.cell.arch.name} underlay ${lab.cell.underlayMtu}: the largest DF packet between pods`);
    out.push(await measureOne(lab, o.signal));
  }
  return out;
}
