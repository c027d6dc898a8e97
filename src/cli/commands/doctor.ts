import type { Command } from 'commander';
import { architectures } from '../../arch';
import { missingReason, probeFeatures, type FeatureReport } from '../../doctor/features';
import { findLeftovers, type Leftover } from '../../doctor/leftovers';
import { judgeQuiet, sampleQuiet, type QuietCheck } from '../../doctor/quiet';
import { printJson, runCommand } from '../context';
import { table } from '../output';

export function registerDoctor(program: Command): void {
  program
    .command('doctor')
    .description(
      'check root, tools and kernel features, which architectures can run here, whether the machine is quiet ' +
        'enough to measure on, and what cnilab left behind',
    )
    .option('--json', 'print as JSON')
    .action((o: { json?: boolean }) =>
      runCommand(o.json, async () => {
        const features = await probeFeatures();
        const archs = architectures.names().map((name) => {
          const why = missingReason(features, ['root', 'iproute2', 'iperf3', ...architectures.get(name).requires]);
          return { name, ok: why === undefined, ...(why ? { reason: why } : {}) };
        });
        const quiet = judgeQuiet(await sampleQuiet());
        const leftovers = features.root.ok ? await findLeftovers() : [];
        if (o.json) printJson({ features: Object.values(features), architectures: archs, quiet, leftovers });
        else printDoctor(features, archs, quiet, leftovers);
        if (!features.root.ok || !features.iproute2.ok || !features.iperf3.ok) process.exitCode = 1;
      }),
    );
}

/** The doctor's findings as four tables: features, architectures, the quiet-machine check, leftovers. */
function printDoctor(
  features: FeatureReport,
  archs: readonly { name: string; ok: boolean; reason?: string }[],
  quiet: readonly QuietCheck[],
  leftovers: readonly Leftover[],
): void {
  const out = (text: string): boolean => process.stdout.write(text);
  out(
    table(
      ['FEATURE', 'OK', 'DETAIL'],
      Object.values(features).map((f) => [f.feature, f.ok ? 'yes' : 'no', f.detail]),
    ) + '\n\n',
  );
  out(
    table(
      ['ARCHITECTURE', 'RUNS', 'REASON'],
      archs.map((a) => [a.name, a.ok ? 'yes' : 'skip', a.reason ?? '']),
    ) + '\n\n',
  );
  out(
    table(
      ['QUIET MACHINE', 'OK', 'FOUND (1 s)', 'WHAT TO DO'],
      quiet.map((q) => [q.check, q.ok ? 'yes' : 'no', q.value, q.advice]),
    ) + '\n\n',
  );
  if (leftovers.length === 0)
    out(
      features.root.ok
        ? "left behind: nothing (no lab, no link of cnilab's in this namespace)\n"
        : 'left behind: not checked (needs root)\n',
    );
  else
    out(
      table(
        ['LEFT BEHIND', 'BY', 'WHAT', 'REMOVE WITH'],
        leftovers.map((l) => [l.name, l.owner === 'cnilab' ? 'cnilab' : 'unknown', l.detail, l.remove]),
      ) + '\n',
    );
}
