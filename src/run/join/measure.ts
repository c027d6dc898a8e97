/**
 * The join test: node-join convergence, measured in running labs. In each round, one sample per
 * lab, the labs in the round's seeded order (drift on the machine spreads over the architectures).
 * A sample: `node add` with one pod, timed from its start; then a ping from one pod on every other
 * compute node to the new pod, 2 ms apart, until each is answered (ping's own reply timestamps) —
 * converged when the last one is; the control plane's BGP times where it has them; then `node
 * remove`, timed. One sample at a time, nothing else in flight. A failed sample's node is removed
 * before the error goes on (unless the run is being aborted: its tear-down removes the lab).
 */
import { CnilabError } from '../../lib/errors';
import { runIn } from '../../lib/netns';
import { joinNode, leaveNode } from '../../lab/nodes';
import type { LabState } from '../../lab/state';
import { architectures } from '../../arch';
import { roundOrder } from '../schedule';
import { firstReplyMs } from '../attach/measure';
import { attachStat } from '../attach/stats';
import type { JoinJson } from '../results-join-schema';
import { JOIN_TEST } from '../results-schema';

/** A lab the join test runs in. */
export interface JoinLab {
  readonly arch: string;
  readonly state: LabState;
}

export interface JoinSample {
  readonly join: number;
  readonly converged: number;
  readonly bgp?: { readonly sessionUp: number; readonly routeReceived: number };
  readonly leave: number;
}

/** How long each peer's ping waits for its first answer before the run fails. */
const CONVERGE_DEADLINE_SEC = 20;
/** Joined nodes are named after this, numbered. */
export const JOIN_PREFIX = 'join';

const wallMs = (): number => performance.timeOrigin + performance.now();

/** One pod on each compute node but `node`: where the pings come from. */
function sources(state: LabState, node: string): LabState['pods'] {
  const nodes = state.topology.nodes.filter((n) => n.role === 'compute' && n.name !== node).map((n) => n.name);
  return nodes.flatMap((n) => state.pods.filter((p) => p.node === n).slice(0, 1));
}

/** One join: node add with one pod, the pings, the BGP times, node remove. */
export async function joinSample(lab: string, node: string, signal?: AbortSignal): Promise<JoinSample> {
  const t0 = wallMs();
  let joined = false;
  try {
    const state = await joinNode(lab, node, 1, signal);
    joined = true;
    const join = wallMs() - t0;
    const target = state.pods.find((p) => p.node === node)!;
    const from = sources(state, node);
    if (from.length === 0) throw new CnilabError('INVALID_INPUT', `lab ${lab} has no pod on another node to ping from`);
    const replies = await Promise.all(
      from.map(async (src) => {
        const ping = await runIn(
          { name: src.netns },
          'ping',
          ['-n', '-D', '-c', '1', '-i', '0.002', '-w', String(CONVERGE_DEADLINE_SEC), target.ip],
          { signal, check: false },
        );
        const at = firstReplyMs(ping.stdout);
        if (at === undefined)
          throw new CnilabError(
            'TRAFFIC_FAILED',
            `join ${node} of lab ${lab}: ${src.name} got no answer from ${target.name} (${target.ip}) within ${CONVERGE_DEADLINE_SEC} s`,
          );
        return at;
      }),
    );
    const membership = architectures.get(state.arch).control.membership;
    const bgp = typeof membership === 'string' ? undefined : await membership.bgpTimes?.(state, node);
    const t2 = wallMs();
    joined = false;
    await leaveNode(lab, node);
    return {
      join,
      converged: Math.max(...replies) - t0,
      ...(bgp ? { bgp: { sessionUp: bgp.sessionUp - t0, routeReceived: bgp.routeReceived - t0 } } : {}),
      leave: wallMs() - t2,
    };
  } finally {
    if (joined && !signal?.aborted) await leaveNode(lab, node).catch(() => undefined);
  }
}

export interface JoinMeasureOptions {
  readonly seed: number;
  readonly samples: number;
  readonly signal?: AbortSignal;
  readonly progress: (step: string) => void;
}

/** `samples` joins in every lab, round by round; their figures per architecture. */
export async function measureJoin(labs: readonly JoinLab[], o: JoinMeasureOptions): Promise<JoinJson['archs']> {
  const taken = new Map<string, JoinSample[]>(labs.map((l) => [l.state.lab, []]));
  for (let round = 0; round < o.samples; round++) {
    for (const l of roundOrder(labs, o.seed + 7919, round, () => JOIN_TEST)) {
      o.signal?.throwIfAborted();
      o.progress(`join ${round + 1}/${o.samples}: ${l.arch}`);
      taken.get(l.state.lab)!.push(await joinSample(l.state.lab, `${JOIN_PREFIX}${round + 1}`, o.signal));
    }
  }
  return labs.map((l) => {
    const s = taken.get(l.state.lab)!;
    const bgp = s.every((x) => x.bgp) ? s.map((x) => x.bgp!) : undefined;
    return {
      arch: l.arch,
      family: architectures.get(l.arch).family,
      lab: l.state.lab,
      peers: l.state.topology.nodes.filter((n) => n.role === 'compute').length,
      join: attachStat(s.map((x) => x.join)),
      converged: attachStat(s.map((x) => x.converged)),
      ...(bgp
        ? {
            bgp: {
              sessionUp: attachStat(bgp.map((b) => b.sessionUp)),
              routeReceived: attachStat(bgp.map((b) => b.routeReceived)),
            },
          }
        : {}),
      leave: attachStat(s.map((x) => x.leave)),
    };
  });
}
