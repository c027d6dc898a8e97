import type { Command } from 'commander';
import { DEFAULT_LAB_ARCH } from '../../arch';
import { up } from '../../lab/lab';
import { onAttachWait, type AttachWait } from '../../lab/pods';
import { loadTopology } from '../../topology/load';
import { printJson, runCommand } from '../context';
import { statusOf, printStatus } from './status';

/** Progress of a pod's ADD waiting for the controller (CNI error 11), on stderr. */
export function printAttachWaits(): void {
  onAttachWait((w: AttachWait) =>
    process.stderr.write(
      `• pod ${w.pod} on ${w.node}: waiting for the controller (CNI error 11: ${w.error.message}); ` +
        `retry ${w.attempt} in ${(w.delayMs / 1000).toFixed(1)} s\n`,
    ),
  );
}

export function registerUp(program: Command): void {
  program
    .command('up')
    .description('build a lab: nodes, switch, control plane and pods attached through CNI')
    .option('--arch <name>', 'data-path architecture', DEFAULT_LAB_ARCH)
    .option('--topology <file>', 'topology YAML (default: 1 control + 3 compute nodes, 2 pods each)')
    .option('--lab <name>', "lab name (default: the topology's name)")
    .option('--proxy <mode>', "the Service proxy on every compute node (over the topology's proxy)")
    .option('--json', 'print the lab as JSON')
    .action((o: { arch: string; topology?: string; lab?: string; proxy?: string; json?: boolean }) =>
      runCommand(o.json, async (signal) => {
        const loaded = loadTopology(o.topology, o.lab === undefined ? {} : { name: o.lab });
        const topology = o.proxy === undefined ? loaded : { ...loaded, proxy: o.proxy };
        const t0 = performance.now();
        if (!o.json) printAttachWaits();
        const state = await up({
          topology,
          arch: o.arch,
          signal,
          onStep: o.json ? undefined : (s) => process.stderr.write(`• ${s}\n`),
        });
        const status = await statusOf(state.lab);
        if (o.json) printJson(status);
        else {
          printStatus(status);
          process.stderr.write(
            `lab ${state.lab} up in ${((performance.now() - t0) / 1000).toFixed(2)} s; remove it with: cnilab ` +
              `down --lab ${state.lab}\n`,
          );
        }
      }),
    );
}
