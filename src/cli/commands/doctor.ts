import type { Command } from 'commander';
import { architectures } from '../../arch';
import { missingReason, probeFeatures } from '../../doctor/features';
import { findLeftovers } from '../../doctor/leftovers';
import { printJson, runCommand } from '../context';
import { table } from '../output';

export function registerDoctor(program: Command): void {
  program
    .command('doctor')
    .description('check root, tools and kernel features, which architectures can run here, and what cnilab left behind')
    .option('--json', 'print as JSON')
    .action((o: { json?: boolean }) =>
      runCommand(o.json, async () => {
        const features = await probeFeatures();
        const archs = architectures.names().map((name) => {
          const why = missingReason(features, ['root', 'iproute2', 'iperf3', ...architectures.get(name).requires]);
          return { name, ok: why === undefined, ...(why ? { reason: why } : {}) };
        });
        const leftovers = features.root.ok ? await findLeftovers() : [];
        if (o.json) return printJson({ features: Object.values(features), architectures: archs, leftovers });
        process.stdout.write(
          table(
            ['FEATURE', 'OK', 'DETAIL'],
            Object.values(features).map((f) => [f.feature, f.ok ? 'yes' : 'no', f.detail]),
          ) + '\n\n',
        );
        process.stdout.write(
          table(
            ['ARCHITECTURE', 'RUNS', 'REASON'],
            archs.map((a) => [a.name, a.ok ? 'yes' : 'skip', a.reason ?? '']),
          ) + '\n\n',
        );
        if (leftovers.length === 0)
          process.stdout.write(
            features.root.ok
              ? "left behind: nothing (no lab, no link of cnilab's in this namespace)\n"
              : 'left behind: not checked (needs root)\n',
          );
        else
          process.stdout.write(
            table(
              ['LEFT BEHIND', 'BY', 'WHAT', 'REMOVE WITH'],
              leftovers.map((l) => [l.name, l.owner === 'cnilab' ? 'cnilab' : 'unknown', l.detail, l.remove]),
            ) + '\n',
          );
        if (!features.root.ok || !features.iproute2.ok || !features.iperf3.ok) process.exitCode = 1;
      }),
    );
}
