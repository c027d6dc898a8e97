import type { Command } from 'commander';
import { joinNode, leaveNode, restartProcess } from '../../lab/nodes';
import { CnilabError } from '../../lib/errors';
import { pickLab } from '../../lab/state';
import { positiveNumber, printJson, runCommand } from '../context';
import { printStatus, statusOf } from './status';
import { printAttachWaits } from './up';

export function registerNode(program: Command): void {
  const node = program.command('node').description('change a running lab: compute nodes join and leave');
  node
    .command('add')
    .description('add a compute node: namespace, switch port, agent, lease, pods')
    .argument('<name>', 'node name')
    .option('--pods <n>', 'pods to attach on it (default 0)', (v) =>
      v === '0' ? 0 : positiveNumber('--pods', true)(v),
    )
    .option('--lab <name>', 'the lab (default: the only one up)')
    .option('--json', 'print the lab as JSON')
    .action((name: string, o: { pods?: number; lab?: string; json?: boolean }) =>
      runCommand(o.json, async (signal) => {
        const lab = pickLab(o.lab);
        if (!o.json) printAttachWaits();
        await joinNode(lab, name, o.pods ?? 0, signal);
        const status = await statusOf(lab);
        if (o.json) printJson(status);
        else printStatus(status);
      }),
    );
  node
    .command('remove')
    .description('remove a compute node: its agent stops, its lease is released, its namespaces go')
    .argument('<name>', 'node name')
    .option('--lab <name>', 'the lab (default: the only one up)')
    .option('--json', 'print the lab as JSON')
    .action((name: string, o: { lab?: string; json?: boolean }) =>
      runCommand(o.json, async () => {
        const lab = pickLab(o.lab);
        await leaveNode(lab, name);
        const status = await statusOf(lab);
        if (o.json) printJson(status);
        else printStatus(status);
      }),
    );
}

export function registerRestart(program: Command): void {
  program
    .command('restart')
    .description(
      'stop and start again the lab process on a node: its agent or node daemon, or the controller on the control node',
    )
    .argument('<node>', 'node name')
    .option('--signal <kill|term>', 'how it stops: kill (a crash, SIGKILL) or term (SIGTERM)', 'kill')
    .option('--lab <name>', 'the lab (default: the only one up)')
    .option('--json', 'print what happened as JSON')
    .action((name: string, o: { signal: string; lab?: string; json?: boolean }) =>
      runCommand(o.json, async () => {
        if (o.signal !== 'kill' && o.signal !== 'term')
          throw new CnilabError('INVALID_INPUT', `--signal: ${JSON.stringify(o.signal)} must be kill or term`);
        const lab = pickLab(o.lab);
        const { process: p } = await restartProcess(lab, name, o.signal === 'kill' ? 'SIGKILL' : 'SIGTERM');
        if (o.json) printJson({ lab, node: name, role: p.role, pid: p.pid });
        else process.stderr.write(`restarted ${p.role} on ${name}: pid ${p.pid}\n`);
      }),
    );
}
