/**
 * The join test: node-join convergence, measured in running labs. In each round, one sample per
 * lab, the labs in the round's seeded order (drift on the machine spreads over the architectures).
 * A sample: `node add` with one pod, timed from its start; then a ping from one pod on every other
 * compute node to the new pod, 2 ms apart, until each is answered (ping's own reply timestamps) —
 * converged when the last one is; the moments the control plane records of it, where it does
 * (Membership.details); then `node
 * remove`, timed. One sample at a time, nothing else in flight. A failed sample's node is removed
 * before the error goes on (unless the run is being aborted: its tear-down removes the lab).
 */
import type { MembershipDetail } from '../../arch/architecture';
import { CnilabError } from '../../lib/errors';
import { joinNode, leaveNode } from '../../lab/nodes';
import type { LabState } from '../../lab/state';
import { architectures } from '../../arch';
import { roundOrder } from '../schedule';
import { msStat } from '../after/ms-stat';
import { firstReply } from '../after/ping';
import type { AfterMeasureOptions } from '../after/test';
import type { JoinCell, JoinSettings } from './plan';
import type { JoinJson } from './schema';

/** A lab the join test runs in. */
export interface JoinLab {
  readonly cell: JoinCell;
  readonly state: LabState;
}

export interface JoinSample {
  readonly join: number;
  readonly converged: number;
  /** The control plane's moments, ms from the start of node add. */
  readonly details?: readonly MembershipDetail[];
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

/** One join: node add with one pod, the pings, the control plane's moments, node remove. */
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
        const at = await firstReply(src.netns, target.ip, CONVERGE_DEADLINE_SEC, signal);
        if (at === undefined)
          throw new CnilabError(
            'TRAFFIC_FAILED',
            `join ${node} of lab ${lab}: ${src.name} ` +
              `got no answer from ${target.name} ` +
              `(${target.ip}) within ${CONVERGE_DEADLINE_SEC} s`,
          );
        return at;
      }),
    );
    const membership = architectures.get(state.arch).control.membership;
    const details = typeof membership === 'string' ? undefined : await membership.details?.(state, node);
    const t2 = wallMs();
    joined = false;
    await leaveNode(lab, node);
    return {
      join,
      converged: Math.max(...replies) - t0,
      ...(details ? { details: details.map((d) => ({ ...d, at: d.at - t0 })) } : {}),
      leave: wallMs() - t2,
    };
  } finally {
    if (joined && !signal?.aborted) await leaveNode(lab, node).catch(() => undefined);
  }
}

/** `samples` joins in every lab, round by round; their figures per architecture. */
export async function measureJoin(
  labs: readonly JoinLab[],
  settings: JoinSettings,
  o: AfterMeasureOptions,
): Promise<JoinJson['archs']> {
  const taken = new Map<string, JoinSample[]>(labs.map((l) => [l.state.lab, []]));
  for (let round = 0; round < settings.samples; round++) {
    for (const l of roundOrder(labs, o.seed + 7919, round, () => 'join')) {
      o.signal?.throwIfAborted();
      o.progress(`join ${round + 1}/${settings.samples}: ${l.cell.arch.name}`);
      taken.get(l.state.lab)!.push(await joinSample(l.state.lab, `${JOIN_PREFIX}${round + 1}`, o.signal));
    }
  }
  return labs.map((l) => {
    const s = taken.get(l.state.lab)!;
    const details = detailStats(s);
    return {
      arch: l.cell.arch.name,
      family: l.cell.arch.family,
      lab: l.state.lab,
      peers: l.state.topology.nodes.filter((n) => n.role === 'compute').length,
      join: msStat(s.map((x) => x.join)),
      converged: msStat(s.map((x) => x.converged)),
      ...(details.length ? { details } : {}),
      leave: msStat(s.map((x) => x.leave)),
    };
  });
}

/** Each moment every sample has, in the control plane's order, its figures over the samples. */
function detailStats(s: readonly JoinSample[]): NonNullable<JoinJson['archs'][number]['details']> {
  const first = s[0]?.details ?? [];
  return first
    .filter((d) => s.every((x) => x.details?.some((y) => y.key === d.key)))
    .map((d) => ({
      key: d.key,
      label: d.label,
      about: d.about,
      ms: msStat(s.map((x) => x.details!.find((y) => y.key === d.key)!.at)),
    }));
}
