/**
 * One lab of the policy-scale test while it is measured: its pods, the servers in the server pod,
 * the policies it holds now (fillers, probe), the design enforcing them; bringing it to N rules,
 * each agent's syncs, and the lab restored afterwards — every policy the
 * test made deleted, the servers stopped, the lab's own design enforcing again.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CnilabError } from '../../lib/errors';
import { applyPolicies, deletePolicies, listPolicies } from '../../lab/policy-apply';
import { POLICY_ROLE, policyDir, policyRevision, recordPolicyDataplane, switchPolicyDesign } from '../../lab/policy';
import { requireState, type LabState, type PodState, type ProcessState } from '../../lab/state';
import { POLICY_SYNCS_FILE, type PolicySyncRecord } from '../../policy/agent/agent';
import { policyKey } from '../../policy/model';
import { startIperf3Server } from '../../traffic/iperf3/run';
import { startCrrServer } from '../../traffic/crr/run';
import { msStat } from '../after/ms-stat';
import type { PolicyScaleCell } from './plan';
import { checkFillerRange, createdKeys, CRR_PORT, fillerPolicies, IPERF_PORT, probePolicy } from './policies';
import type { PolicyScaleCatalogue, PolicyScaleRule } from './schema';

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
  /** The catalogue's matrices by design. */
  readonly catalogues: Map<string, PolicyScaleCatalogue>;
}

export const labOf = (l: LabRun): string => l.lab.state.lab;
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
    catalogues: new Map(),
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
  await switchPolicyDesign(labOf(l), design, signal);
  l.design = design;
}

/** The lab brought to `n` rules (the fillers missing, and the probe), every node enforcing: the time it took. */
export async function fillTo(l: LabRun, n: number): Promise<{ applyMs: number; before: number; filled: number }> {
  const lab = labOf(l);
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
  await deletePolicies(labOf(l), createdKeys(l.fillers, l.probe, l.realize), true, true);
  l.fillers = 0;
  l.probe = false;
  l.realize = false;
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
  recordPolicyDataplane(labOf(l), l.lab.cell.setting);
  if (failure !== undefined) throw failure;
}
