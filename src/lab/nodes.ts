/**
 * A running lab changes: compute nodes join and leave, agents and the store restart. What the
 * flannel design must survive, made into operations tests and users can run.
 */
import { join } from 'node:path';
import { architectures } from '../arch';
import { addressAt, cidrSize, formatIPv4, parseCidr, parseIPv4 } from '../lib/ip';
import { CnilabError } from '../lib/errors';
import { stopPid } from '../lib/exec';
import type { Lease } from '../flannel/subnet/model';
import type { NodeSpec, PodSpec } from '../topology/schema';
import { controlRequest, nodeDir, startAgent, startController, waitForPeers, waitForSubnet } from './control-plane';
import { nodeNetns, podNetns, UNDERLAY_IF } from './names';
import { attachPods, writeConflist } from './pods';
import { requireState, writeState, type LabState, type ProcessState } from './state';
import { deleteNamespaces, pidsInNetns } from './teardown';
import { plugNodes } from './underlay';
import { daemonSocket, ovsDatapath, startKuryrDaemon } from '../kuryr/control-plane';
import { rmSync } from 'node:fs';
import { openvswitch } from '../doctor/features';

export async function leases(lab: string): Promise<Lease[]> {
  return (await controlRequest<{ leases: Lease[] }>(lab, 'GET', '/v1/leases')).body.leases;
}

function computeNames(state: LabState): string[] {
  return state.topology.nodes.filter((n) => n.role === 'compute').map((n) => n.name);
}

/** Adds a compute node to a running lab: namespace, switch port, agent, lease, its pods. */
export async function joinNode(lab: string, name: string, pods = 0, signal?: AbortSignal): Promise<LabState> {
  let state = requireState(lab);
  const arch = architectures.get(state.arch);
  if (!/^[a-z][a-z0-9-]{0,14}$/.test(name) || ['switch', 'pod'].includes(name)) throw new CnilabError('INVALID_INPUT', `node name ${JSON.stringify(name)}: 1–15 lowercase letters, digits or -, starting with a letter`);
  if (state.topology.nodes.some((n) => n.name === name)) throw new CnilabError('DUPLICATE', `lab ${lab} already has a node ${name}`);
  if (arch.kuryr) throw new CnilabError('INVALID_INPUT', `architecture ${arch.name}: a Kuryr lab's nodes are fixed at up (node add is for the flannel architectures); bring a larger lab up with --topology`);
  if (!arch.backend || !arch.conflist) throw new CnilabError('INVALID_INPUT', `architecture ${arch.name} has no control plane to join`);
  const underlay = parseCidr(state.topology.underlay.cidr);
  const used = new Set(state.topology.nodes.map((n) => parseIPv4(n.underlayIp)));
  let ip: number | undefined;
  for (let i = 1; i < cidrSize(underlay) - 1 && ip === undefined; i++) if (!used.has(addressAt(underlay, i))) ip = addressAt(underlay, i);
  if (ip === undefined) throw new CnilabError('INVALID_INPUT', `underlay ${state.topology.underlay.cidr} has no free address`);
  const node: NodeSpec = { name, role: 'compute', underlayIp: formatIPv4(ip), underlay: `${formatIPv4(ip)}/${underlay.prefix}` };
  const newPods: PodSpec[] = Array.from({ length: pods }, (_, i) => ({ name: `${name}-p${i + 1}`, node: name }));
  const topology = { ...state.topology, nodes: [...state.topology.nodes, node], pods: [...state.topology.pods, ...newPods] };

  const namespaces = [nodeNetns(lab, name), ...newPods.map((p) => podNetns(lab, p.name))];
  try {
    await plugNodes(lab, [node], topology.underlay.mtu, signal);
    const agent = startAgent(topology, name);
    state = { ...state, topology, processes: [...state.processes, agent] };
    writeState(state);
    const subnetEnv = await waitForSubnet(lab, name, [agent], signal);
    const list = arch.conflist({ subnetEnv, nodeDir: nodeDir(lab, name), ipamDir: join(nodeDir(lab, name), 'ipam'), underlayIf: UNDERLAY_IF });
    writeConflist(lab, name, list);
    const attached = await attachPods(lab, newPods, list, signal);
    await waitForPeers(lab, computeNames(state), state.processes, signal);
    state = { ...state, pods: [...state.pods, ...attached] };
    writeState(state);
  } catch (e) {
    // Nothing half-joined stays: the node's processes, lease, namespaces and record go.
    await Promise.all(pidsInNetns(namespaces).map((pid) => stopPid(pid)));
    await controlRequest(lab, 'DELETE', `/v1/leases/${name}`).catch(() => undefined);
    await deleteNamespaces(namespaces);
    const before = requireState(lab);
    writeState({ ...before, topology: { ...before.topology, nodes: before.topology.nodes.filter((n) => n.name !== name), pods: before.topology.pods.filter((p) => p.node !== name) }, processes: before.processes.filter((p) => p.node !== name) });
    throw e;
  }
  return state;
}

/** Removes a compute node: its agent stops, its lease is released, its namespaces go. */
export async function leaveNode(lab: string, name: string): Promise<LabState> {
  let state = requireState(lab);
  const node = state.topology.nodes.find((n) => n.name === name && n.role === 'compute');
  if (!node) throw new CnilabError('INVALID_INPUT', `lab ${lab} has no compute node ${name}`);
  if (architectures.get(state.arch).kuryr) throw new CnilabError('INVALID_INPUT', `architecture ${state.arch}: a Kuryr lab's nodes are fixed at up (node remove is for the flannel architectures)`);
  for (const p of state.processes.filter((x) => x.node === name)) await stopPid(p.pid);
  await controlRequest(lab, 'DELETE', `/v1/leases/${name}`);
  const namespaces = [nodeNetns(lab, name), ...state.pods.filter((p) => p.node === name).map((p) => podNetns(lab, p.name))];
  await Promise.all(pidsInNetns(namespaces).map((pid) => stopPid(pid)));
  await deleteNamespaces(namespaces);
  state = {
    ...state,
    topology: { ...state.topology, nodes: state.topology.nodes.filter((n) => n.name !== name), pods: state.topology.pods.filter((p) => p.node !== name) },
    pods: state.pods.filter((p) => p.node !== name),
    processes: state.processes.filter((p) => p.node !== name),
  };
  writeState(state);
  return state;
}

/** The processes `restart` knows how to start again (Open vSwitch's are the lab's, not restartable). */
const RESTARTABLE = ['controller', 'agent', 'kuryr-daemon'];

/** Kills (SIGKILL: a crash, or SIGTERM) and starts again the agent or node daemon of `node`, or the controller when `node` is the control node. */
export async function restartProcess(lab: string, node: string, signal: 'SIGKILL' | 'SIGTERM' = 'SIGKILL'): Promise<{ state: LabState; downMs: number; process: ProcessState }> {
  let state = requireState(lab);
  const old = state.processes.find((p) => p.node === node && RESTARTABLE.includes(p.role));
  if (!old) throw new CnilabError('INVALID_INPUT', `no lab process runs on node ${node}; processes: ${state.processes.map((p) => `${p.role}@${p.node}`).join(', ')}`);
  const t0 = performance.now();
  if (signal === 'SIGKILL') process.kill(old.pid, 'SIGKILL');
  await stopPid(old.pid, 1000);
  const arch = architectures.get(state.arch);
  const fresh: ProcessState =
    old.role === 'controller'
      ? startController(state.topology, arch.backend)
      : old.role === 'kuryr-daemon'
        ? // A killed daemon leaves its socket behind; gone, it tells when the new one serves.
          (rmSync(daemonSocket(lab, node), { force: true }), startKuryrDaemon(state.topology, node, arch.kuryr!, ovsDatapath({ openvswitch: await openvswitch() })))
        : startAgent(state.topology, node);
  state = { ...state, processes: state.processes.map((p) => (p.pid === old.pid ? fresh : p)) };
  writeState(state);
  return { state, downMs: performance.now() - t0, process: fresh };
}
