/**
 * A running lab changes: compute nodes join and leave, control-plane processes restart. The lab
 * does the node's namespace, switch port and record; the architecture's control plane does the rest
 * (or says why its nodes are fixed).
 */
import { rmSync, writeFileSync } from 'node:fs';
import { CnilabError } from '../lib/errors';
import { architectures } from '../arch';
import { POLICY_ROLE, restartPolicyAgent } from './policy';
import { addressAt, cidrSize, formatIPv4, parseCidr, parseIPv4 } from '../lib/ip';
import { stopPid } from '../lib/exec';
import type { NodeSpec, PodSpec } from '../topology/schema';
import { nodeNetns, podNetns } from './names';
import { issueCredentials, revokeCredential } from './node-credentials';
import { CONTROLLER_ROLE, restartingBy, restartNote } from './processes';
import { requireState, writeState, type LabState, type ProcessState } from './state';
import { deleteNamespaces, pidsInNetns } from './teardown';
import { plugNodes } from './underlay';
import { v6At } from '../topology/families';
import { joinServices, leaveServices } from './services';

/** The control plane's membership, or INVALID_INPUT with the reason this lab's nodes are fixed. */
function membershipOf(state: LabState, verb: string) {
  const m = architectures.get(state.arch).control.membership;
  if (typeof m === 'string') throw new CnilabError('INVALID_INPUT', `architecture ${state.arch}: ${m} (node ${verb})`);
  return m;
}

/** The first free underlay address of the lab, for a new node. */
function freeUnderlayAddress(state: LabState): NodeSpec['underlay'] {
  const underlay = parseCidr(state.topology.underlay.cidr);
  const used = new Set(state.topology.nodes.map((n) => parseIPv4(n.underlayIp)));
  for (let i = 1; i < cidrSize(underlay) - 1; i++) {
    if (!used.has(addressAt(underlay, i))) return `${formatIPv4(addressAt(underlay, i))}/${underlay.prefix}`;
  }
  throw new CnilabError('INVALID_INPUT', `underlay ${state.topology.underlay.cidr} has no free address`);
}

/** Adds a compute node to a running lab: namespace, switch port, its control-plane processes, its pods. */
export async function joinNode(lab: string, name: string, pods = 0, signal?: AbortSignal): Promise<LabState> {
  let state = requireState(lab);
  if (!/^[a-z][a-z0-9-]{0,14}$/.test(name) || ['switch', 'pod'].includes(name))
    throw new CnilabError(
      'INVALID_INPUT',
      `node name ${JSON.stringify(name)}: 1–15 lowercase letters, digits or -, starting with a letter`,
    );
  if (state.topology.nodes.some((n) => n.name === name))
    throw new CnilabError('CONFLICT', `lab ${lab} already has a node ${name}`);
  const membership = membershipOf(state, 'add');
  const underlay = freeUnderlayAddress(state);
  const at = parseIPv4(underlay.split('/')[0]!) - parseCidr(state.topology.underlay.cidr).base;
  const ip6 = v6At(state.topology.underlay.cidr6, at);
  const node: NodeSpec = {
    name,
    role: 'compute',
    underlayIp: underlay.split('/')[0]!,
    underlay,
    underlayIp6: ip6,
    underlay6: `${ip6}/${state.topology.underlay.cidr6.split('/')[1]}`,
  };
  const newPods: PodSpec[] = Array.from({ length: pods }, (_, i) => ({ name: `${name}-p${i + 1}`, node: name }));
  state = {
    ...state,
    topology: { ...state.topology, nodes: [...state.topology.nodes, node], pods: [...state.topology.pods, ...newPods] },
  };
  const namespaces = [nodeNetns(lab, name), ...newPods.map((p) => podNetns(lab, p.name))];
  try {
    await plugNodes(lab, [node], state.topology.underlay, state.topology.ipFamilies, signal, state.topology.bigTcp);
    // Its credential before its processes: they read it from the node's folder (lab/node-credentials.ts).
    // Only the controller's death fails it early: another node's agent that died is not this join's.
    const controller = state.processes.filter((p) => p.role === CONTROLLER_ROLE);
    await issueCredentials(lab, [name], controller, signal);
    const attached = await membership.join({
      state,
      node,
      pods: newPods,
      signal,
      record: (processes) => writeState((state = { ...state, processes: current(lab, name, processes) })),
    });
    state = { ...state, processes: current(lab, name, state.processes), pods: [...state.pods, ...attached] };
    writeState(state);
    // Its pods with the API server, its proxy (when the lab runs one) started and synced.
    const proxy = await joinServices(state, name, attached, signal);
    state = { ...state, processes: current(lab, name, [...state.processes, ...proxy]) };
    writeState(state);
  } catch (e) {
    await leaveServices(requireState(lab), name).catch(() => undefined);
    // Nothing half-joined stays: the node's processes, namespaces and record go (the control plane undid its part).
    await Promise.all(pidsInNetns(namespaces).map((pid) => stopPid(pid)));
    await deleteNamespaces(namespaces);
    await revokeCredential(lab, name).catch(() => undefined);
    writeState(withoutNode(requireState(lab), name));
    throw e;
  }
  return state;
}

/**
 * `processes` as the lab records them now: the joining node's from `processes`, every other one's
 * from the record (a process restarted during the join — the controller — has a new PID there).
 */
function current(lab: string, node: string, processes: readonly ProcessState[]): ProcessState[] {
  const mine = processes.filter((p) => p.node === node);
  return [...requireState(lab).processes.filter((p) => p.node !== node), ...mine];
}

function withoutNode(state: LabState, name: string): LabState {
  return {
    ...state,
    topology: {
      ...state.topology,
      nodes: state.topology.nodes.filter((n) => n.name !== name),
      pods: state.topology.pods.filter((p) => p.node !== name),
    },
    pods: state.pods.filter((p) => p.node !== name),
    processes: state.processes.filter((p) => p.node !== name),
  };
}

/** Removes a compute node: its processes stop, the control plane releases what it held, its namespaces go. */
export async function leaveNode(lab: string, name: string): Promise<LabState> {
  const state = requireState(lab);
  const node = state.topology.nodes.find((n) => n.name === name && n.role === 'compute');
  if (!node) throw new CnilabError('NOT_FOUND', `lab ${lab} has no compute node ${name}`);
  const membership = membershipOf(state, 'remove');
  for (const p of state.processes.filter((x) => x.node === name)) await stopPid(p.pid);
  await leaveServices(state, name);
  await membership.leave(state, name);
  await revokeCredential(lab, name);
  const namespaces = [
    nodeNetns(lab, name),
    ...state.pods.filter((p) => p.node === name).map((p) => podNetns(lab, p.name)),
  ];
  await Promise.all(pidsInNetns(namespaces).map((pid) => stopPid(pid)));
  await deleteNamespaces(namespaces);
  const after = withoutNode(state, name);
  writeState(after);
  return after;
}

/** SIGKILL, fine when the process is gone already (it crashed: the restart brings it back). */
function killGone(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    /* already gone */
  }
}

/**
 * Kills (SIGKILL: a crash, or SIGTERM) and starts again the control-plane process of `node` (the
 * controller on the control node): the one with `role`, or the node's first restartable one.
 */
export async function restartProcess(
  lab: string,
  node: string,
  signal: 'SIGKILL' | 'SIGTERM' = 'SIGKILL',
  role?: string,
): Promise<{ state: LabState; downMs: number; process: ProcessState }> {
  let state = requireState(lab);
  const control = architectures.get(state.arch).control;
  // The policy agent is the lab's, not the kind's: restartable on every kind that enforces.
  const restartable = [...control.restartable, ...(control.policy ? [POLICY_ROLE] : [])];
  const old = state.processes.find(
    (p) => p.node === node && restartable.includes(p.role) && (role === undefined || p.role === role),
  );
  if (!old)
    throw new CnilabError(
      'NOT_FOUND',
      `no lab process to restart runs on node ${node}; processes: ` +
        `${state.processes.map((p) => `${p.role}@${p.node}`).join(', ') || 'none'}`,
    );
  const t0 = performance.now();
  // Told first, so that what waits on the process (a join's polls) waits for its successor.
  writeFileSync(restartNote(old), restartingBy(process.pid));
  let fresh: ProcessState;
  try {
    if (signal === 'SIGKILL') killGone(old.pid);
    await stopPid(old.pid, 1000);
    fresh = old.role === POLICY_ROLE ? await restartPolicyAgent(state, node) : await control.restart(state, old);
  } catch (e) {
    rmSync(restartNote(old), { force: true });
    throw e;
  }
  writeFileSync(restartNote(old), String(fresh.pid));
  // Read again: a join may have recorded its node's processes meanwhile.
  state = requireState(lab);
  state = { ...state, processes: state.processes.map((p) => (p.pid === old.pid ? fresh : p)) };
  writeState(state);
  return { state, downMs: performance.now() - t0, process: fresh };
}
