/**
 * Starting the lab's processes: the lease store on the control node and one agent per compute
 * node, each inside its node's namespace, each logging to RUN_DIR/logs/. Waits until every agent
 * has its lease and knows every peer.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CnilabError } from '../lib/errors';
import { isAlive, sleep, startDaemon } from '../lib/exec';
import { AGENT_MAIN, CONTROLLER_MAIN } from '../lib/paths';
import type { AgentStatus } from '../agent/agent';
import type { Topology } from '../topology/schema';
import { nodeNetns, runDir, UNDERLAY_IF } from './names';
import type { ProcessState } from './state';

export const STORE_PORT = 2379;

export function nodeDir(lab: string, node: string): string {
  return join(runDir(lab), 'nodes', node);
}

function startInNode(lab: string, node: string, role: string, args: string[]): ProcessState {
  const log = join(runDir(lab), 'logs', `${role}-${node}.log`);
  mkdirSync(join(runDir(lab), 'logs'), { recursive: true });
  const d = startDaemon('ip', ['netns', 'exec', nodeNetns(lab, node), process.execPath, ...args], log);
  return { pid: d.pid, role, node, log };
}

export async function startControlPlane(topology: Topology, backend: string, signal?: AbortSignal): Promise<ProcessState[]> {
  const lab = topology.name;
  const control = topology.nodes.find((n) => n.role === 'control')!;
  const compute = topology.nodes.filter((n) => n.role === 'compute');
  const procs: ProcessState[] = [
    startInNode(lab, control.name, 'controller', [
      CONTROLLER_MAIN,
      '--listen', control.underlayIp,
      '--port', String(STORE_PORT),
      '--data', join(runDir(lab), 'leases.json'),
      '--network', topology.podCidr,
      '--subnet-length', String(topology.subnetLength),
      '--backend', backend,
    ]),
  ];
  const store = `http://${control.underlayIp}:${STORE_PORT}`;
  for (const n of compute) {
    mkdirSync(nodeDir(lab, n.name), { recursive: true });
    procs.push(startInNode(lab, n.name, 'agent', [AGENT_MAIN, '--store', store, '--node', n.name, '--iface', UNDERLAY_IF, '--run-dir', nodeDir(lab, n.name)]));
  }
  await waitForAgents(lab, compute.map((n) => n.name), procs, signal);
  return procs;
}

async function waitForAgents(lab: string, nodes: readonly string[], procs: readonly ProcessState[], signal?: AbortSignal): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const pending = nodes.filter((n) => {
      const file = join(nodeDir(lab, n), 'agent.json');
      if (!existsSync(file)) return true;
      const s = JSON.parse(readFileSync(file, 'utf8')) as AgentStatus;
      return s.peers.length < nodes.length - 1;
    });
    if (pending.length === 0) return;
    const dead = procs.find((p) => !isAlive(p.pid));
    if (dead) throw new CnilabError('AGENT_FAILED', `${dead.role} on ${dead.node} exited during start-up: ${lastLine(dead.log)} (log: ${dead.log})`);
    if (Date.now() > deadline) throw new CnilabError('AGENT_FAILED', `agents on ${pending.join(', ')} did not sync their peers within 30 s (logs: ${join(runDir(lab), 'logs')})`);
    await sleep(20, signal);
  }
}

function lastLine(file: string): string {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').slice(-1)[0] ?? '';
  } catch {
    return '(no log)';
  }
}
