import type { Command } from 'commander';
import { down } from '../../lab/lab';
import { pickLab } from '../../lab/state';
import { allLabs } from '../../lab/teardown';
import { printJson, runCommand } from '../context';

export function registerDown(program: Command): void {
  program
    .command('down')
    .description('remove a lab: its processes, namespaces (with every link) and files')
    .option('--lab <name>', 'the lab (default: the only one up)')
    .option('--all', 'remove every cnilab lab and leftover found by name prefix, e.g. after a crash')
    .option('--json', 'print what was removed as JSON')
    .action((o: { lab?: string; all?: boolean; json?: boolean }) =>
      runCommand(o.json, async () => {
        const labs = o.all ? allLabs() : [pickLab(o.lab)];
        const reports = [];
        for (const lab of labs) reports.push(await down(lab));
        if (o.json) printJson(reports);
        else if (reports.length === 0) process.stderr.write('nothing to remove\n');
        else
          for (const r of reports)
            process.stderr.write(`removed lab ${r.lab}: ${r.namespaces} namespaces, ${r.processes} processes\n`);
      }),
    );
}
