import type { Command } from 'commander';
import { labNamespaces } from '../../lab/teardown';
import { isAlive } from '../../lib/exec';
import { pickLab, requireState } from '../../lab/state';
import { nodeNetns } from '../../lab/names';
import { printJson, runCommand } from '../context';
import { table } from '../output';

export interface LabStatus {
  readonly lab: string;
  readonly arch: string;
  readonly status: string;
  readonly createdAt: string;
  readonly nodes: { name: string; role: string; underlay: string; netns: string; up: boolean }[];
  readonly pods: { name: string; node: string; ip: string; mtu: number; netns: string; up: boolean }[];
  readonly processes: { role: string; node: string; pid: number; running: boolean }[];
}

export async function statusOf(lab: string): Promise<LabStatus> {
  const s = requireState(lab);
  const live = new Set(labNamespaces(lab));
  return {
    lab,
    arch: s.arch,
    status: s.status,
    createdAt: s.createdAt,
    nodes: s.topology.nodes.map((n) => ({
      name: n.name,
      role: n.role,
      underlay: n.underlay,
      netns: nodeNetns(lab, n.name),
      up: live.has(nodeNetns(lab, n.name)),
    })),
    pods: s.pods.map((p) => ({
      name: p.name,
      node: p.node,
      ip: p.ip,
      mtu: p.mtu,
      netns: p.netns,
      up: live.has(p.netns),
    })),
    processes: s.processes.map((p) => ({ role: p.role, node: p.node, pid: p.pid, running: isAlive(p.pid) })),
  };
}

export function printStatus(s: LabStatus): void {
  const lines = [
    `lab ${s.lab}: architecture ${s.arch}, ${s.status}`,
    '',
    table(
      ['NODE', 'ROLE', 'UNDERLAY', 'NAMESPACE'],
      s.nodes.map((n) => [n.name, n.role, n.underlay, n.up ? n.netns : `${n.netns} (missing)`]),
    ),
  ];
  if (s.pods.length > 0)
    lines.push(
      '',
      table(
        ['POD', 'NODE', 'IP', 'MTU', 'NAMESPACE'],
        s.pods.map((p) => [p.name, p.node, p.ip, p.mtu, p.up ? p.netns : `${p.netns} (missing)`]),
        [3],
      ),
    );
  if (s.processes.length > 0)
    lines.push(
      '',
      table(
        ['PROCESS', 'NODE', 'PID', 'STATE'],
        s.processes.map((p) => [p.role, p.node, p.pid, p.running ? 'running' : 'exited']),
        [2],
      ),
    );
  process.stdout.write(lines.join('\n') + '\n');
}

export function registerStatus(program: Command): void {
  program
    .command('status')
    .description('show a lab: nodes with role and underlay address, pods with node, IP and namespace')
    .option('--lab <name>', 'the lab (default: the only one up)')
    .option('--json', 'print as JSON')
    .action((o: { lab?: string; json?: boolean }) =>
      runCommand(o.json, async () => {
        const status = await statusOf(pickLab(o.lab));
        if (o.json) printJson(status);
        else printStatus(status);
      }),
    );
}
