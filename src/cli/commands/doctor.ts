import type { Command } from 'commander';
import { architectures } from '../../arch';
import { missingReason, probeFeatures } from '../../doctor/features';
import { printJson, runCommand } from '../context';
import { table } from '../output';

export function registerDoctor(program: Command): void {
  program
    .command('doctor')
    .description('check root, tools and kernel features, and which architectures can run here')
    .option('--json', 'print as JSON')
    .action((o: { json?: boolean }) =>
      runCommand(o.json, async () => {
        const features = await probeFeatures();
        const archs = architectures.names().map((name) => {
          const why = missingReason(features, ['root', 'iproute2', 'iperf3', ...architectures.get(name).requires]);
          return { name, ok: why === undefined, ...(why ? { reason: why } : {}) };
        });
        if (o.json) return printJson({ features: Object.values(features), architectures: archs });
        process.stdout.write(table(['FEATURE', 'OK', 'DETAIL'], Object.values(features).map((f) => [f.feature, f.ok ? 'yes' : 'no', f.detail])) + '\n\n');
        process.stdout.write(table(['ARCHITECTURE', 'RUNS', 'REASON'], archs.map((a) => [a.name, a.ok ? 'yes' : 'skip', a.reason ?? ''])) + '\n');
        if (!features.root.ok || !features.iproute2.ok || !features.iperf3.ok) process.exitCode = 1;
      }),
    );
}
