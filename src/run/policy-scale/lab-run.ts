/**
 * One lab of the policy-scale test while it is measured: its pods, the servers in the server pod,
 * the policies it holds now (fillers, probe), the design enforcing them; bringing it to N rules,
 * one timed realization, each agent's syncs, and the lab restored afterwards — every policy the
 * test made deleted, the servers stopped, the lab's own design enforcing again.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CnilabError } from '../../lib/errors';
import { once } from 'node:events';
import { startWatched, stopPid } from '../../lib/exec';
import { inNetns } from '../../lib/netns';
import { applyPolicies, deletePolicies, listPolicies } from '../../lab/policy-apply';
import { POLICY_ROLE, policiesEnforced, policyDir, policyRevision, switchPolicyDesign } from '../../lab/policy';
import { requireState, type LabState, type PodState, type ProcessState } from '../../lab/state';
import { POLICY_SYNCS_FILE, type PolicySyncRecord } from '../../policy/agent/agent';
import { policyKey } from '../../policy/model';
import { startIperf3Server } from '../../traffic/iperf3/run';
import { startCrrServer } from '../../traffic/crr/run';
import { msStat } from '../after/ms-stat';
import type { PolicyScaleCell } from './plan';
import {
  checkFillerRange,
  createdKeys,
  CRR_PORT,
  fillerPolicies,
  IPERF_PORT,
  probePolicy,
  realizePolicy,
  REALIZE_POLICY,
} from './policies';
import type { PolicyScaleRule } from './schema';

export interface PolicyScaleLab {
  readonly cell: PolicyScaleCell;
  readonly state: LabState;
}

export interface LabRun {
  readonly lab: PolicyScaleLab;
  readonly client: PodState;
  readonly server: PodState;
  readonly client2: PodState;
  /** The design enforcing now. */
  design: string;
  /** Fillers held now (pscale-f00001 … this one), and whether the probe and the realization policies are. */
  fillers: number;
  probe: boolean;
  realize: boolean;
  readonly stops: (() => Promise<void>)[];
  /** Figures by design, in the order measured. */
  readonly figures: Map<string, PolicyScaleRule[]>;
}

/** How long one realization may take before the run fails, s. */
const REALIZE_DEADLINE_SEC = 60;
/**
 * The realization probe starts a fresh connection this often, ms, and at least this % of the time
 * since it began: within 1 ms (or 1%) of the realization, and a few hundred connections a change.
 */
const REALIZE_EVERY_MS = 1;
const REALIZE_EVERY_PCT = 1;

const wallMs = (): number => performance.timeOrigin + performance.now();
const name = (l: LabRun): string => l.lab.state.lab;
export const agentsOf = (lab: string): ProcessState[] =>
  requireState(lab).processes.filter((p) => p.role === POLICY_ROLE);

/** A lab that holds policies of its own, or whose pods sit in the fillers' range, is refused; its pods found. */
export async function prepare(lab: PolicyScaleLab): Promise<LabRun> {
  const { cell, state } = lab;
  const held = (await listPolicies(state.lab)).policies;
  if (held.length)
    throw new CnilabError(
      'CONFLICT',
      `policy-scale in lab ${state.lab}: it holds ${held.length} policies (${policyKey(held[0]!)}…); the test ` +
        `needs a lab without any (they would select its pods too): delete them first`,
    );
  checkFillerRange(
    state.lab,
    state.pods.map((p) => p.ip),
  );
  const pod = (n: string): PodState => {
    const p = state.pods.find((x) => x.name === n);
    if (!p) throw new CnilabError('NOT_FOUND', `lab ${state.lab}: no pod ${n}`);
    return p;
  };
  return {
    lab,
    client: pod(cell.client),
    server: pod(cell.server),
    client2: pod(cell.client2),
    design: cell.own,
    fillers: 0,
    probe: false,
    realize: false,
    stops: [],
    figures: new Map(),
  };
}

/** The server pod's crr server and iperf3 started (ready once they listen). */
export async function startServers(l: LabRun): Promise<void> {
  const ns = { name: l.server.netns };
  const crr = await startCrrServer(ns, CRR_PORT, l.server.name);
  l.stops.push(() => crr.stop());
  const iperf = startIperf3Server(ns, l.server.ip, IPERF_PORT);
  l.stops.push(() => iperf.stop());
}

/** The lab's nodes enforcing with `design` from now (nothing to do when they already do). */
export async function useDesign(l: LabRun, design: string, signal?: AbortSignal): Promise<void> {
  if (l.design === design) return;
  await switchPolicyDesign(name(l), design, signal);
  l.design = design;
}

/** The lab brought to `n` rules (the fillers missing, and the probe), every node enforcing: the time it took. */
export async function fillTo(l: LabRun, n: number): Promise<{ applyMs: number; before: number; filled: number }> {
  const lab = name(l);
  const before = await policyRevision(lab);
  const t0 = performance.now();
  if (n < l.fillers || (n === 0 && l.probe)) await removeAll(l);
  const add = [...fillerPolicies(l.fillers + 1, n, l.server.name), ...(n && !l.probe ? [probe(l)] : [])];
  if (add.length) await applyPolicies(lab, add, true);
  l.fillers = n;
  l.probe = n > 0;
  return { applyMs: performance.now() - t0, before, filled: await policyRevision(lab) };
}

const probe = (l: LabRun) => probePolicy(l.server.name, l.client.name);

/** Every policy the test made deleted, every node enforcing that. */
export async function removeAll(l: LabRun): Promise<void> {
  await deletePolicies(name(l), createdKeys(l.fillers, l.probe, l.realize), true, true);
  l.fillers = 0;
  l.probe = false;
  l.realize = false;
}

const PROBE_MAIN = join(__dirname, 'realize-probe.js');

/** The realization probe started in `ns` (realize-probe.ts): `started` once it connects, `done` with its line. */
function startProbe(
  ns: string,
  host: string,
): { started: Promise<void>; done: Promise<ProbeLine>; stop(): Promise<void> } {
  const args = [PROBE_MAIN, '--host', host, '--port', String(CRR_PORT), '--deadline-sec', String(REALIZE_DEADLINE_SEC)];
  args.push('--every-ms', String(REALIZE_EVERY_MS), '--every-pct', String(REALIZE_EVERY_PCT));
  const child = startWatched(...inNetns({ name: ns }, process.execPath, args));
  let out = '';
  let err = '';
  let onStarted: () => void = () => undefined;
  const started = new Promise<void>((resolve) => (onStarted = resolve));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
    if (out.startsWith('started\n')) onStarted();
  });
  const done = once(child, 'close').then(() => {
    const last = out.trim().split('\n').at(-1) ?? '';
    if (!last.startsWith('{'))
      throw new CnilabError('EXEC_FAILED', `realization probe in ${ns} gave no result: ${err.trim()}`);
    return JSON.parse(last) as ProbeLine;
  });
  // One that exits before it started ends the wait for that too (done says why).
  void done.then(onStarted, onStarted);
  const pid = child.pid!;
  return { started, done, stop: () => stopPid(pid) };
}

interface ProbeLine {
  readonly firstAt?: number;
  readonly attempts: number;
}

/**
 * One timed realization: the second client connecting (denied: the server is isolated) — a fresh
 * connection every millisecond, seen started (an event) — then the policy allowing it sent without
 * waiting; the time until its first connection established. Then the policy deleted (waited for).
 * Returns the time, the revision before and the revision the change made.
 */
export async function realize(
  l: LabRun,
  signal?: AbortSignal,
): Promise<{ ms: number; after: number; revision: number }> {
  const lab = name(l);
  const after = await policyRevision(lab);
  const p = startProbe(l.client2.netns, l.server.ip);
  let t0: number;
  let revision: number;
  let r: ProbeLine;
  try {
    await p.started;
    signal?.throwIfAborted();
    t0 = wallMs();
    l.realize = true;
    revision = (await applyPolicies(lab, [realizePolicy(l.server.name, l.client2.name)], false)).revision;
    r = await p.done;
  } catch (e) {
    await p.stop();
    throw e;
  }
  if (r.firstAt !== undefined && r.firstAt < t0)
    throw new CnilabError(
      'TRAFFIC_FAILED',
      `policy-scale in lab ${lab}: ${l.client2.name} reached ${l.server.name} before any policy allowed it ` +
        `(${l.design}): the server is not isolated`,
    );
  if (r.firstAt === undefined)
    throw new CnilabError(
      'TRAFFIC_FAILED',
      `policy-scale in lab ${lab}: ${l.client2.name} got no connection to ${l.server.name} within ` +
        `${REALIZE_DEADLINE_SEC} s of ${REALIZE_POLICY} being applied (${l.design}; ${r.attempts} tries)`,
    );
  await policiesEnforced(lab, agentsOf(lab), signal, revision);
  await deletePolicies(lab, createdKeys(0, false, true), true);
  l.realize = false;
  return { ms: r.firstAt - t0, after, revision };
}

/** Each agent's syncs.jsonl records, by node. */
export function syncRecords(
  lab: string,
  nodes: readonly string[],
  read: (node: string) => string = (node) => readFileSync(join(policyDir(lab, node), POLICY_SYNCS_FILE), 'utf8'),
): Map<string, PolicySyncRecord[]> {
  const recs = (node: string): PolicySyncRecord[] => {
    let text: string;
    try {
      text = read(node);
    } catch {
      return [];
    }
    return text
      .split('\n')
      .filter(Boolean)
      .map((x) => JSON.parse(x) as PolicySyncRecord);
  };
  return new Map(nodes.map((n) => [n, recs(n)]));
}

/**
 * The agents' figures at N: their syncs of the fill (revisions after `before` up to `filled`) and of
 * each timed change (revisions in (`change.after`, `change.revision`]).
 */
export function agentFigures(
  recs: ReadonlyMap<string, readonly PolicySyncRecord[]>,
  before: number,
  filled: number,
  changes: readonly { readonly after: number; readonly revision: number }[],
): PolicyScaleRule['agents'] {
  return [...recs].map(([node, rs]) => {
    const fill = rs.filter((r) => r.revision > before && r.revision <= filled);
    const change = changes
      .map((c) => rs.filter((r) => r.revision > c.after && r.revision <= c.revision))
      .filter((x) => x.length)
      .map((x) => x.reduce((a, r) => a + r.ms, 0));
    return {
      node,
      fillSyncs: fill.length,
      fillSyncMs: Math.round(fill.reduce((a, r) => a + r.ms, 0) * 100) / 100,
      ...(change.length ? { changeSyncMs: msStat(change) } : {}),
    };
  });
}

/** Every policy the test made deleted, the servers stopped, the lab's own design enforcing again. */
export async function restore(l: LabRun): Promise<void> {
  let failure: unknown;
  const attempt = async (f: () => Promise<unknown>): Promise<void> => {
    await f().catch((e: unknown) => (failure ??= e));
  };
  await attempt(() => removeAll(l));
  for (const s of l.stops) await attempt(s);
  await attempt(() => useDesign(l, l.lab.cell.own));
  if (failure !== undefined) throw failure;
}
