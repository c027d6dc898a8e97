import { resolve } from 'node:path';
import type { Command } from 'commander';
import { compareRuns, type Change, type Comparison } from '../../report/compare';
import { readComparable, readResults, writeOutputs } from '../../report/outputs';
import { CnilabError } from '../../lib/errors';
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

/** --equivalence of compare: as `cnilab run`'s, above 0 and below 50 %. */
function equivalencePct(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0 || n >= 50)
    throw new CnilabError(
      'INVALID_INPUT',
      `--equivalence: ${JSON.stringify(v)} must be a percentage above 0 and below 50, e.g. 3: a row of B within ` +
        `±3% of A's is equivalent`,
    );
  return n;
}

const signed = (x: number): string => `${x > 0 ? '+' : ''}${x.toFixed(1)}%`;

/** One line of the table: the medians, the change, the compared change with its 95% interval, p, the verdict. */
function changeLine(x: Change): string[] {
  const ci = x.comparedCi95
    ? ` [${signed((x.comparedCi95.low - 1) * 100)}, ${signed((x.comparedCi95.high - 1) * 100)}]`
    : '';
  return [
    x.key,
    METRIC_INFO[x.metric].label,
    `${figure(x.a.median)} [${figure(x.a.ci95.low)}–${figure(x.a.ci95.high)}]`,
    `${figure(x.b.median)} [${figure(x.b.ci95.low)}–${figure(x.b.ci95.high)}]`,
    x.unit,
    signed(x.changePct),
    `${x.basis === 'ratio to host' ? 'of host ' : ''}${signed(x.comparedChangePct)}${ci}`,
    x.pValue === null ? '—' : x.pValue < 0.001 ? '<0.001' : x.pValue.toFixed(3),
    x.judgement === 'better' || x.judgement === 'worse' ? x.judgement.toUpperCase() : x.judgement,
  ];
}

/** The comparison as a table, its notes and a summary line. */
function printComparison(c: Comparison): void {
  const count = (j: Change['judgement']): number => c.changes.filter((x) => x.judgement === j).length;
  const noFloor =
    c.floorPct.a === 0 || c.floorPct.b === 0
      ? '; a file before v3 has none: its run-to-run variance is not accounted for'
      : '';
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
          'COMPARED [95% CI]',
          'P',
          'VERDICT',
        ],
        c.changes.map(changeLine),
        [2, 3, 5, 6, 7],
      ),
      '',
      ...c.notes.map((n) => `note: ${n}`),
      ...c.onlyInA.map((k) => `only in A: ${k}`),
      ...c.onlyInB.map((k) => `only in B: ${k}`),
      `${c.changes.length} compared: ${count('better')} better, ${count('worse')} worse, ` +
        `${count('equivalent')} equivalent (within ±${c.equivalencePct}%), ${count('not resolved')} not resolved ` +
        `(Holm over all rows, family-wise error ≤ ${c.alpha * 100}% for better/worse and ` +
        `≤ ${(c.alpha * 100) / 2}% for equivalent; noise floor A ±${c.floorPct.a}%, B ±${c.floorPct.b}%${noFloor})`,
    ].join('\n') + '\n',
  );
}

export function registerCompare(program: Command): void {
  program
    .command('compare')
    .description(
      "compare two runs row by row: each row's ratio to its own run's host (v3), or its samples; better or worse " +
        "only when Welch's t on the logs, with each run's noise floor, rejects no change after Holm's " +
        "correction over all rows (5%); equivalent when the change's 95% interval (Holm-widened) lies within " +
        '±--equivalence; else not resolved',
    )
    .argument('<a>', 'the reference run folder (or its results.json; v1 files too)')
    .argument('<b>', 'the run compared with it')
    .option(
      '--equivalence <pct>',
      "a row is equivalent when its change B/A is within ± this % (default: B's settings.equivalencePct, else 3)",
      equivalencePct,
    )
    .option('--fail-on-worse', 'exit with status 3 when any row is worse outside the noise (for CI)')
    .option('--json', 'print the comparison as JSON')
    .action((a: string, b: string, o: { json?: boolean; failOnWorse?: boolean; equivalence?: number }) =>
      runCommand(o.json, async () => {
        const c = compareRuns(
          readComparable(a),
          readComparable(b),
          o.equivalence === undefined ? {} : { equivalencePct: o.equivalence },
        );
        if (o.json) printJson(c);
        else printComparison(c);
        if (o.failOnWorse && c.changes.some((x) => x.judgement === 'worse')) process.exitCode = 3;
      }),
    );
}
