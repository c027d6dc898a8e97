/**
 * The lab's NetworkPolicy enforcement, kind-agnostic: on every compute node of a lab whose kind
 * enforces (ControlPlane.policy), a policy agent running the design the topology's policyDataplane
 * names (the kind's first by default), ready once it has enforced what the API server holds. A
 * kind that does not enforce gets no agent, and its policies are reported as not enforced.
 */
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { apiRequest } from '../apiserver/client';
import type { Architecture } from '../arch/architecture';
import { architectures } from '../arch';
import { CnilabError } from '../lib/errors';
import type { PolicyDesign } from '../policy/design';
import { POLICY_SYNCED_FILE } from '../policy/agent/agent';
import type { Topology } from '../topology/schema';
import { credentialFile, checksCredentials } from './credentials';
import { nodeDir, nodeNetns } from './names';
import { controllerUrl, poll, startInNode } from './processes';
import { requireState, writeState, type LabState, type ProcessState } from './state';
import { stopPid } from '../lib/exec';

export const POLICY_ROLE = 'policy';
const POLICY_MAIN = join(__dirname, '..', 'policy', 'agent', 'main.js');

/** The policy agent's folder on `node`: syncs.jsonl, synced, and the design's state when it keeps it there. */
export const policyDir = (lab: string, node: string): string => join(nodeDir(lab, node), 'policy');

/** The topology fields that choose a lab's design: policyDataplane, and the pods' families (default IPv4). */
type PolicyChoice = Pick<Topology, 'policyDataplane'> & { readonly ipFamilies?: readonly (4 | 6)[] };

/** Whether `d` enforces on every family of `t`'s pods. */
const coversFamilies = (d: PolicyDesign, t: PolicyChoice): boolean =>
  (t.ipFamilies ?? [4]).every((f) => (d.ipFamilies ?? [4, 6]).includes(f));

/**
 * The design `t`'s lab of `arch` enforces with; undefined when none (the kind enforces none, or
 * 'none'). By default the kind's first design that covers the pods' families: none when no design
 * does (an IPv6 lab of the ebpf kind, whose design is IPv4 only).
 */
export function policyDesign(t: PolicyChoice, arch: Architecture): PolicyDesign | undefined {
  const designs = arch.control.policy?.designs ?? [];
  if (t.policyDataplane === 'none') return undefined;
  return t.policyDataplane === undefined
    ? designs.find((d) => coversFamilies(d, t))
    : designs.find((d) => d.name === t.policyDataplane);
}

/** Why `t` cannot run on `arch` for its policyDataplane, checked before anything is made. */
export function refusePolicy(t: PolicyChoice, arch: Architecture): string | undefined {
  const want = t.policyDataplane;
  if (want === undefined || want === 'none') return undefined;
  const designs = arch.control.policy?.designs ?? [];
  const names = designs.map((d) => d.name);
  if (names.length === 0)
    return `policyDataplane: ${arch.name} enforces no NetworkPolicy (as flannel, macvlan and Kuryr here); leave it out or give none`;
  if (!names.includes(want)) return `policyDataplane: ${arch.name} enforces with ${names.join(' or ')}, not ${want}`;
  const d = designs.find((x) => x.name === want)!;
  if (!coversFamilies(d, t))
    return (
      `policyDataplane: ${want} enforces on IPv${(d.ipFamilies ?? []).join(' and IPv')} only, and this lab's pods have ` +
      `ipFamilies [${(t.ipFamilies ?? [4]).join(', ')}] (docs/ipv6.md); give none, or ipFamilies [4]`
    );
  return undefined;
}

/** The design's folder on `node`: the kind's (its pins), or the agent's own. */
function stateDir(state: Pick<LabState, 'lab' | 'arch'>, node: string): string {
  const e = architectures.get(state.arch).control.policy;
  return e?.stateDir ? e.stateDir(state.lab, node) : policyDir(state.lab, node);
}

/** Starts `node`'s policy agent for `design`. */
export function startPolicyAgent(
  state: Pick<LabState, 'lab' | 'arch' | 'topology'>,
  node: string,
  design: PolicyDesign,
): ProcessState {
  const { lab, topology } = state;
  // the predecessor's record goes first: what waits for enforcement waits for this agent's first sync
  rmSync(join(policyDir(lab, node), POLICY_SYNCED_FILE), { force: true });
  return startInNode(lab, node, POLICY_ROLE, [
    POLICY_MAIN,
    '--controller',
    controllerUrl(topology),
    '--node',
    node,
    '--arch',
    state.arch,
    '--design',
    design.name,
    '--netns',
    nodeNetns(lab, node),
    '--run-dir',
    policyDir(lab, node),
    '--state-dir',
    stateDir(state, node),
    ...(checksCredentials(lab) ? ['--credential', credentialFile(lab, node)] : []),
  ]);
}

/** The API server's revision now. */
export async function policyRevision(lab: string): Promise<number> {
  return (await apiRequest<{ revision: number }>(lab, 'GET', '/api/policies')).revision;
}

/** The revision `node`'s agent enforced last, or undefined before its first sync. */
export function enforcedRevision(lab: string, node: string): number | undefined {
  try {
    return Number(readFileSync(join(policyDir(lab, node), POLICY_SYNCED_FILE), 'utf8'));
  } catch {
    return undefined;
  }
}

/** A first sync of 10,000 policies through iptables-nft takes seconds; the kernel tier's CPU, more. */
const POLICY_SYNC_TIMEOUT_MS = 180_000;

/** Waits until every agent of `procs` has enforced `revision` (default: the API server's now). */
export async function policiesEnforced(
  lab: string,
  procs: readonly ProcessState[],
  signal?: AbortSignal,
  revision?: number,
  timeoutMs = POLICY_SYNC_TIMEOUT_MS,
): Promise<void> {
  const want = revision ?? (await policyRevision(lab));
  for (const p of procs)
    await poll(
      `the ${p.node} policy agent enforcing revision ${want}`,
      () => ((enforcedRevision(lab, p.node) ?? -1) >= want ? true : undefined),
      [p],
      signal,
      timeoutMs,
    );
}

/** Starts the policy agents of `nodes` (none when the lab enforces none) and waits for their first sync. */
export async function startPolicyAgents(
  state: LabState,
  nodes: readonly string[],
  record: (processes: readonly ProcessState[]) => void,
  signal?: AbortSignal,
): Promise<ProcessState[]> {
  const design = policyDesign(state.topology, architectures.get(state.arch));
  if (!design || nodes.length === 0) return [];
  const agents = nodes.map((n) => startPolicyAgent(state, n, design));
  record(agents);
  await policiesEnforced(state.lab, agents, signal);
  return agents;
}

/** Throws when `t` asks for a design `arch` does not offer. */
export function checkPolicy(t: Topology, arch: Architecture): void {
  const r = refusePolicy(t, arch);
  if (r) throw new CnilabError('INVALID_INPUT', r);
}

/** `node`'s policy agent started again (its predecessor stopped), back once it has enforced what the API server holds. */
export async function restartPolicyAgent(state: LabState, node: string): Promise<ProcessState> {
  const design = policyDesign(state.topology, architectures.get(state.arch));
  if (!design) throw new CnilabError('NOT_FOUND', `lab ${state.lab} runs no policy agent`);
  const fresh = startPolicyAgent(state, node, design);
  await policiesEnforced(state.lab, [fresh]);
  return fresh;
}

/**
 * Has `lab`'s nodes enforce with `design` (one of its kind's) from now: the agents stopped, what the
 * old design programmed removed, new agents started and synced. Between the two the pods are not
 * isolated — a change of data plane, not a restart (which never opens them). The state records
 * the new policyDataplane, so `down` and a later switch know it.
 */
export async function switchPolicyDesign(lab: string, design: string, signal?: AbortSignal): Promise<LabState> {
  let state = requireState(lab);
  const arch = architectures.get(state.arch);
  const choice = { policyDataplane: design, ipFamilies: state.topology.ipFamilies };
  const refused = refusePolicy(choice, arch);
  if (refused) throw new CnilabError('INVALID_INPUT', refused);
  const next = policyDesign(choice, arch)!;
  const old = policyDesign(state.topology, arch);
  const agents = state.processes.filter((p) => p.role === POLICY_ROLE);
  for (const a of agents) await stopPid(a.pid);
  if (old) for (const a of agents) await old.cleanup({ netns: nodeNetns(lab, a.node), dir: stateDir(state, a.node) });
  const compute = state.topology.nodes.filter((n) => n.role === 'compute').map((n) => n.name);
  const nodes = agents.length ? agents.map((a) => a.node) : compute;
  state = {
    ...state,
    topology: { ...state.topology, policyDataplane: design },
    processes: state.processes.filter((p) => p.role !== POLICY_ROLE),
  };
  writeState(state);
  const record = (procs: readonly ProcessState[]): void =>
    writeState((state = { ...state, processes: [...state.processes, ...procs] }));
  const fresh = nodes.map((n) => startPolicyAgent(state, n, next));
  record(fresh);
  await policiesEnforced(lab, fresh, signal);
  return state;
}

/**
 * Records `setting` as the lab's policyDataplane (undefined: none given, the kind's default) without
 * touching its agents: what a test that switched designs and came back to the lab's own writes, so
 * that the lab's state reads as it was built.
 */
export function recordPolicyDataplane(lab: string, setting: string | undefined): void {
  const state = requireState(lab);
  const { policyDataplane: _was, ...rest } = state.topology;
  writeState({ ...state, topology: setting === undefined ? rest : { ...rest, policyDataplane: setting } });
}
