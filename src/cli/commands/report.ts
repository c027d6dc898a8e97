import { resolve } from 'node:path';
import type { Command } from 'commander';
import { compareRuns } from '../../report/compare';
import { readComparable, readResults, writeOutputs } from '../../report/outputs';
import { figure } from '../../lib/format';
import { METRIC_INFO } from '../../run/results-schema';
import { printJson, runCommand } from '../context';
import { table } from '../output';

export function registerReport(program: Command): void {
  program
    .command('report')
    .description('write results.csv, the charts and report.html of a run folder again from its results.json')
    .argument('<run>', 'run folder (or its results.json)')
    .option('--json', 'print what was written as JSON')
    .action((run: string, o: { json?: boolean }) =>
      runCommand(o.json, async () => {
        const dir = resolve(run.endsWith('.json') ? resolve(run, '..') : run);
        const written = await writeOutputs(readResults(run), dir);
        if (o.json) printJson({ dir, written });
        else process.stdout.write(`written to ${dir}: ${written.join(', ')}\n`);
      }),
    );
}

export function registerCompare(program: Command): void {
  program
    .command('compare')
    .description(
      "compare two runs row by row: each row's ratio to its own run's host (v3), or its samples; better or worse only when Welch's t on the logs, with each run's noise floor, rejects no change after Holm's correction over all rows (5%)",
    )
    .argument('<a>', 'the reference run folder (or its results.json; v1 files too)')
    .argument('<b>', 'the run compared with it')
    .option('--fail-on-worse', 'exit with status 3 when any row is worse outside the noise (for CI)')
    .option('--json', 'print the comparison as JSON')
    .action((a: string, b: string, o: { json?: boolean; failOnWorse?: boolean }) =>
      runCommand(o.json, async () => {
        const c = compareRuns(readComparable(a), readComparable(b));
        if (o.json) printJson(c);
        else {
          const rows = c.changes.map((x) => [
            x.key,
            METRIC_INFO[x.metric].label,
            `${figure(x.a.median)} [${figure(x.a.ci95.low)}–${figure(x.a.ci95.high)}]`,
            `${figure(x.b.median)} [${figure(x.b.ci95.low)}–${figure(x.b.ci95.high)}]`,
            x.unit,
            `${x.changePct > 0 ? '+' : ''}${x.changePct.toFixed(1)}%`,
            `${x.basis === 'ratio to host' ? 'of host ' : ''}${x.comparedChangePct > 0 ? '+' : ''}${x.comparedChangePct.toFixed(1)}%`,
            x.pValue === null ? '—' : x.pValue < 0.001 ? '<0.001' : x.pValue.toFixed(3),
            x.judgement === 'within noise' ? 'within noise' : x.judgement.toUpperCase(),
          ]);
          const worse = c.changes.filter((x) => x.judgement === 'worse').length;
          const better = c.changes.filter((x) => x.judgement === 'better').length;
          process.stdout.write(
            [
              table(
                [
                  'ROW',
                  'METRIC',
                  'A MEDIAN [95% CI]',
                  'B MEDIAN [95% CI]',
                  'UNIT',
                  'CHANGE',
                  'COMPARED',
                  'P',
                  'VERDICT',
                ],
                rows,
                [2, 3, 5, 6, 7],
              ),
              '',
              ...c.notes.map((n) => `note: ${n}`),
              ...c.onlyInA.map((k) => `only in A: ${k}`),
              ...c.onlyInB.map((k) => `only in B: ${k}`),
              `${c.changes.length} compared: ${better} better, ${worse} worse, ${c.changes.length - better - worse} within noise (Holm over all rows, family-wise error ≤ ${c.alpha * 100}%; noise floor A ±${c.floorPct.a}%, B ±${c.floorPct.b}%${c.floorPct.a === 0 || c.floorPct.b === 0 ? '; a file before v3 has none: its run-to-run variance is not accounted for' : ''})`,
            ].join('\n') + '\n',
          );
        }
        if (o.failOnWorse && c.changes.some((x) => x.judgement === 'worse')) process.exitCode = 3;
      }),
    );
}
