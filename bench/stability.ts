/**
 * Benchmark: does a run answer, are its intervals honest, is it the same the second time, and how
 * long does it take? Two parts, each a set of real `cnilab run`s (spawned as `node
 * dist/src/cli/main.js run … --json`, each under a lab name and seed of its own), then the
 * analysis of src/report/agreement.ts:
 *
 *   - coverage (`--coverage-runs`, default 5): host, flannel-host-gw, flannel-vxlan, macvlan and
 *     flannel-udp, inter-node, tcp, `--budget` (default 2m) — for every pair of runs and every
 *     non-host row, z = (ln g_a − ln g_b)/√(se_a² + se_b²), se = the interval's half-width in log
 *     space / 1.96; for the moderated interval and for the plain t interval: the share of
 *     (pair, row)s with |z| ≤ 1.96 (target ≥ 90%) and the median |z| (target ≤ 0.85; 0.67 when
 *     the intervals are honest), their median half-widths, and each row's ratio in every run. A
 *     narrower interval that disagrees is a defect, not a gain.
 *   - repeat: two default runs (`cnilab run`, no matrix flags) back to back. Per run: the rows
 *     answered (resolved within ±precision, or every ranking step decided) ≥ 85%, also the share
 *     resolved; every paper ordering whose architectures the kernel runs natively decided (holds,
 *     reversed or equivalent); the machine's quiet check (`cnilab doctor`'s) just before it; its
 *     duration ≤ 300 s. Between the two: rows agreeing within their combined moderated 95%
 *     intervals ≥ 90%; every kernel-path row's % of host within 5 points; no claim (ranking step,
 *     paper ordering, design) decided one way in one run and the other way, or equivalent, in the
 *     other; `cnilab compare` of the two calls no row better or worse.
 *   - time: each run's rows, rounds, samples, duration, and measuring seconds per row-sample.
 *
 *   node dist/bench/stability.js [--coverage-runs 5] [--budget 2m] [--skip coverage|repeat]
 *       [--seed N] [--keep DIR] [--from DIR] [--json]
 *   node dist/bench/stability.js --interleaving [--budget 15m] [--keep DIR] [--from DIR] [--json]
 *
 * --keep DIR keeps every run's results.json (DIR/coverage-N, DIR/repeat-N); --from DIR analyses
 * them again without measuring. --interleaving is the earlier benchmark of this file: the default
 * matrix interleaved, sequential, interleaved, sequential (the sequential runs take as many rounds
 * as the first interleaved one did) — the between-run difference of each mode's kernel-path ratios,
 * the pairing designs' coverage, round-by-round correlation with host, and a cold first round.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { budgetSec } from '../src/cli/commands/run';
import { table } from '../src/cli/output';
import { judgeQuiet, sampleQuiet, type QuietCheck } from '../src/doctor/quiet';
import { run } from '../src/lib/exec';
import { REPO_ROOT } from '../src/lib/paths';
import {
  agreementKey,
  answered,
  coldStart,
  coverage,
  floorOf,
  largestPointDiff,
  nativePaper,
  pairCorrelation,
  pairingCoverage,
  ratiosByRow,
  reversals,
} from '../src/report/agreement';
import { compareRuns, type ComparableRun } from '../src/report/compare';
import { readResults } from '../src/report/outputs';
import { PAIRINGS } from '../src/run/paired';
import { resultsSchema, type ResultRow, type RunResults } from '../src/run/results-schema';
import { median } from '../src/run/stats';
import { benchArgs, count, flag, num, str } from './args';
import { kernelRows } from './common';
import { judge, targetLines } from './targets';
import { INTERLEAVING_TARGETS, stabilityTargets } from './stability-targets';

const opts = benchArgs(
  'node dist/bench/stability.js [--interleaving] [--coverage-runs 5] [--budget 2m] [--skip coverage|repeat] ' +
    '[--seed N] [--keep DIR] [--from DIR] [--json]',
  {
    'coverage-runs': count(5),
    budget: str(),
    skip: str(''),
    seed: num(Math.floor(Math.random() * 1e6), { integer: true }),
    keep: str(),
    from: str(),
    interleaving: flag,
  },
);

const COVERAGE_ARGS = [
  '--arch',
  'host,flannel-host-gw,flannel-vxlan,macvlan,flannel-udp',
  '--path',
  'inter-node',
  '--tests',
  'tcp',
];

interface Measured {
  readonly name: string;
  readonly res: RunResults;
  /** `cnilab doctor`'s quiet checks, sampled just before the run (absent in runs kept before they were). */
  readonly quiet?: readonly QuietCheck[];
}

/** One `cnilab run … --json` into DIR/NAME, after a second of the doctor's quiet check (kept beside it). */
async function cnilab(dir: string, name: string, lab: string, args: string[], timeoutSec: number): Promise<Measured> {
  const quiet = judgeQuiet(await sampleQuiet());
  writeFileSync(join(dir, `${name}.quiet.json`), JSON.stringify(quiet));
  const full = ['run', '--lab', lab, '--out', join(dir, name), '--json', ...args];
  process.stderr.write(`stability: ${name}: cnilab ${full.join(' ')}\n`);
  const r = await run(process.execPath, [join(REPO_ROOT, 'dist/src/cli/main.js'), ...full], {
    check: false,
    timeoutMs: timeoutSec * 1000,
  });
  if (r.code !== 0)
    throw new Error(`cnilab run (${name}) failed: ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`);
  return { name, res: resultsSchema.parse(JSON.parse(r.stdout)), quiet };
}

/** A kept run (results v3 to v6, as `cnilab report` reads them) and its quiet check. */
function load(dir: string, name: string): Measured {
  const res = readResults(join(dir, name));
  const q = join(dir, `${name}.quiet.json`);
  return { name, res, ...(existsSync(q) ? { quiet: JSON.parse(readFileSync(q, 'utf8')) as QuietCheck[] } : {}) };
}

/** The runs kept in DIR: coverage-1…N and repeat-1, repeat-2, in order. */
function loadAll(dir: string, prefix: string): Measured[] {
  const names = readdirSync(dir).filter(
    (n) => new RegExp(`^${prefix}-\\d+$`).test(n) && existsSync(join(dir, n, 'results.json')),
  );
  return names.sort((a, b) => Number(a.split('-')[1]) - Number(b.split('-')[1])).map((n) => load(dir, n));
}

/** A run as `cnilab compare` reads it. */
const comparable = (r: RunResults): ComparableRun => ({
  rows: r.rows,
  floorPct: r.noise.floorPct,
  underlayMtu: r.lab.underlayMtu,
  equivalencePct: r.settings.equivalencePct,
});

const decided = (c: { judgement: string }): boolean => c.judgement === 'better' || c.judgement === 'worse';
const round1 = (x: number): number => Math.round(x * 10) / 10;

/** Where a run's time went, by rows: seconds per row-sample is the measuring time over every row's samples. */
function timeOf(m: Measured) {
  const samples = m.res.rows.reduce((n, r) => n + (r.metrics[r.primary]?.samples.length ?? 0), 0);
  return {
    run: m.name,
    rows: m.res.rows.length,
    rounds: m.res.schedule.rounds,
    samples,
    durationSec: m.res.durationSec,
    measureSec: m.res.timing.measureSec,
    secPerSample: samples ? Math.round((m.res.timing.measureSec / samples) * 100) / 100 : NaN,
    quiet: m.quiet ? m.quiet.filter((q) => !q.ok).map((q) => q.check) : null,
  };
}

function coveragePart(runs: readonly Measured[]) {
  const res = runs.map((m) => m.res);
  return {
    runs: runs.map((m) => m.name),
    seeds: res.map((r) => r.schedule.seed),
    moderated: coverage(res, 'moderated'),
    plain: coverage(res, 'plain'),
    rows: ratiosByRow(res),
  };
}

/** One default run: what it answered, and the paper orderings it decided. */
function resolutionOf(m: Measured) {
  return {
    run: m.name,
    precisionPct: m.res.schedule.precisionPct ?? 5,
    ...answered(m.res.rows, m.res.claims, m.res.schedule.baseline),
    paper: nativePaper(m.res.claims, m.res.architectures),
    notQuiet: m.quiet ? m.quiet.filter((q) => !q.ok).map((q) => q.check) : null,
  };
}

function repeatPart(a: RunResults, b: RunResults) {
  const kernel = new Set(kernelRows(a).map(agreementKey));
  const cmp = compareRuns(comparable(a), comparable(b));
  const count = (j: string): number => cmp.changes.filter((c) => c.judgement === j).length;
  return {
    agreement: coverage([a, b], 'moderated', a.schedule.baseline),
    kernelRows: kernel.size,
    largestKernelDiff:
      largestPointDiff(a.rows, b.rows, (r) => r.arch !== a.schedule.baseline && kernel.has(agreementKey(r))) ?? null,
    reversed: reversals(a.claims, b.claims),
    compare: {
      decided: cmp.changes.filter(decided).map((c) => `${c.key} ${c.metric}: ${c.judgement}`),
      equivalent: count('equivalent'),
      notResolved: count('not resolved'),
      equivalencePct: cmp.equivalencePct,
    },
  };
}

export type Parts = ReturnType<typeof parts>;

function parts(cov: readonly Measured[], rep: readonly Measured[]) {
  return {
    coverage: cov.length >= 2 ? coveragePart(cov) : null,
    resolution: rep.map(resolutionOf),
    repeat: rep.length >= 2 ? repeatPart(rep[0]!.res, rep[1]!.res) : null,
    time: [...cov, ...rep].map(timeOf),
  };
}

function analyse(cov: readonly Measured[], rep: readonly Measured[]) {
  const p = parts(cov, rep);
  return { ...p, targets: stabilityTargets(p) };
}

function print(a: ReturnType<typeof analyse>): void {
  const pct = (x: number | null): string => (x === null ? '—' : `${(x * 100).toFixed(1)}%`);
  const lines = [
    table(
      ['RUN', 'ROWS', 'ROUNDS', 'SAMPLES', 'TOOK', 'MEASURING', 'S/ROW-SAMPLE', 'NOT QUIET BEFORE'],
      a.time.map((x) => [
        x.run,
        x.rows,
        x.rounds,
        x.samples,
        `${x.durationSec} s`,
        `${x.measureSec} s`,
        x.secPerSample,
        x.quiet === null ? '—' : x.quiet.join(', ') || 'quiet',
      ]),
      [1, 2, 3, 4, 5, 6],
    ),
  ];
  if (a.coverage)
    lines.push(
      '',
      `coverage runs (seeds ${a.coverage.seeds.join(', ')}): each row's ratio to host (geometric mean) per run, ` +
        `and the median half-widths`,
      table(
        ['ROW', ...a.coverage.runs.map((_, i) => `RUN ${i + 1}`), '± MODERATED', '± PLAIN'],
        a.coverage.rows.map((r) => [
          r.row,
          ...r.ratios.map(pct),
          `${r.halfWidthPct.moderated}%`,
          `${r.halfWidthPct.plain}%`,
        ]),
        a.coverage.runs.map((_, i) => i + 1).concat([a.coverage.runs.length + 1, a.coverage.runs.length + 2]),
      ),
      ...[a.coverage.moderated, a.coverage.plain].map(
        (c) =>
          `${c.kind}: disagreeing (pair, row)s: ` +
          `${c.disagree.map((d) => `${d.row} runs ${d.runs[0] + 1}/${d.runs[1] + 1} z=${d.z}`).join('; ') || 'none'}`,
      ),
    );
  for (const r of a.resolution) lines.push(`${r.run}: not answered: ${r.unanswered.join('; ') || 'none'}`);
  lines.push('', ...targetLines(a.targets));
  process.stdout.write(lines.join('\n') + '\n');
}

async function answers(dir: string, from: boolean, budget: number): Promise<void> {
  const skip = new Set(opts.skip.split(',').filter(Boolean));
  const { 'coverage-runs': n, seed } = opts;
  if (n < 2 || n > 20 || [...skip].some((x) => !/^(coverage|repeat)$/.test(x)))
    throw new Error('--coverage-runs: a whole number from 2 to 20; --skip: coverage or repeat');
  const cov: Measured[] = [];
  const rep: Measured[] = [];
  if (from) {
    if (!skip.has('coverage')) cov.push(...loadAll(dir, 'coverage'));
    if (!skip.has('repeat')) rep.push(...loadAll(dir, 'repeat').slice(0, 2));
  } else {
    const args = (i: number): string[] => [...COVERAGE_ARGS, '--budget', `${budget}s`, '--seed', String(seed + i)];
    if (!skip.has('coverage'))
      for (let i = 1; i <= n; i++) cov.push(await cnilab(dir, `coverage-${i}`, `stabc${i}`, args(i), budget * 3 + 600));
    // The default run: no matrix flags, its own lab name and seed.
    if (!skip.has('repeat'))
      for (const i of [1, 2])
        rep.push(await cnilab(dir, `repeat-${i}`, `stabr${i}`, ['--seed', `${seed + 100 + i}`], 1200));
  }
  const a = analyse(cov, rep);
  if (opts.json) process.stdout.write(JSON.stringify(a, null, 2) + '\n');
  else print(a);
}

// --interleaving: the earlier benchmark of this file, kept as it was.

const RUNS = ['interleaved-1', 'sequential-1', 'interleaved-2', 'sequential-2'] as const;
type RunName = (typeof RUNS)[number];

async function measureInterleaving(dir: string, budget: number): Promise<void> {
  let rounds = 0;
  for (const name of RUNS) {
    const sequential = name.startsWith('sequential');
    const args = sequential ? ['--sequential', '--repeats', String(rounds)] : ['--budget', `${budget}s`];
    const m = await cnilab(dir, name, `stab${name.slice(-1)}${sequential ? 's' : 'i'}`, args, budget * 3 + 600);
    if (name === 'interleaved-1') rounds = m.res.schedule.rounds;
  }
}

const key = (r: ResultRow): string => `${r.arch} ${r.path} ${r.test}`;

function analyseInterleaving(runs: Record<RunName, RunResults>) {
  const pctOf = (n: RunName, r: ResultRow): number => {
    const x = runs[n].rows.find((y) => key(y) === key(r));
    return x?.ratio ? round1(x.ratio.median * 100) : NaN;
  };
  const rows = kernelRows(runs['interleaved-1'])
    .filter((x) => x.ratio)
    .map((r) => ({
      row: key(r),
      i1: pctOf('interleaved-1', r),
      i2: pctOf('interleaved-2', r),
      halfWidthPct: r.ratio!.halfWidthPct ?? NaN,
      interleavedDiff: round1(Math.abs(pctOf('interleaved-1', r) - pctOf('interleaved-2', r))),
      sequentialDiff: round1(Math.abs(pctOf('sequential-1', r) - pctOf('sequential-2', r))),
    }));
  const med = (f: (r: (typeof rows)[number]) => number): number => round1(median(rows.map(f).filter(Number.isFinite)));
  const [medI, medS] = [med((r) => r.interleavedDiff), med((r) => r.sequentialDiff)];
  const maxI = Math.max(...rows.map((r) => r.interleavedDiff).filter(Number.isFinite));
  const verdicts = (x: RunName, y: RunName, floor: boolean): string[] =>
    compareRuns(
      { rows: runs[x].rows, ...(floor ? { floorPct: floorOf(runs[x]) } : {}) },
      { rows: runs[y].rows, ...(floor ? { floorPct: floorOf(runs[y]) } : {}) },
    )
      .changes.filter(decided)
      .map((c) => `${c.key}: ${c.judgement}`);
  const rev = reversals(runs['interleaved-1'].claims, runs['interleaved-2'].claims);
  const cmp = verdicts('interleaved-1', 'interleaved-2', true);
  return {
    runs: Object.fromEntries(
      RUNS.map((n) => [
        n,
        {
          durationSec: runs[n].durationSec,
          rounds: runs[n].schedule.rounds,
          floorPct: floorOf(runs[n]),
          pairCorrelation: pairCorrelation(runs[n], kernelRows(runs[n])),
          coldStart: coldStart(runs[n]),
        },
      ]),
    ),
    rows,
    medianHalfWidthPct: med((r) => r.halfWidthPct),
    medianBetweenRunDiffPoints: { interleaved: medI, sequential: medS },
    maxInterleavedDiffPoints: round1(maxI),
    reversedOrderings: rev,
    compareVerdicts: cmp,
    compareVerdictsWithoutFloor: verdicts('interleaved-1', 'interleaved-2', false),
    allPairs: RUNS.flatMap((x, i) =>
      RUNS.slice(i + 1).map((y) => `${x}/${y} ${verdicts(x, y, true).length}/${verdicts(x, y, false).length}`),
    ),
    pairingCoverage: Object.fromEntries(
      PAIRINGS.map((p) => [p, pairingCoverage(runs['interleaved-1'], runs['interleaved-2'], p)]),
    ),
    targets: judge(INTERLEAVING_TARGETS, {
      halfWidth: med((r) => r.halfWidthPct),
      stability: medS / medI,
      largestDiff: maxI,
      reversed: rev.length,
      compared: cmp.length,
    }),
  };
}

async function interleaving(dir: string, from: boolean, budget: number): Promise<void> {
  if (!from) await measureInterleaving(dir, budget);
  const a = analyseInterleaving(
    Object.fromEntries(RUNS.map((n) => [n, load(dir, n).res])) as Record<RunName, RunResults>,
  );
  if (opts.json) return void process.stdout.write(JSON.stringify(a, null, 2) + '\n');
  process.stdout.write(
    [
      table(
        ['RUN', 'TOOK S', 'ROUNDS', 'FLOOR ±%', 'CORRELATION WITH HOST', 'COLD ROUND 1'],
        Object.entries(a.runs).map(([n, r]) => [n, ...Object.values(r)]),
        [1, 2, 3, 4, 5],
      ),
      '',
      table(
        ['KERNEL-PATH ROW', 'RUN 1 %', 'RUN 2 %', '±%', 'DIFF INTERLEAVED', 'DIFF SEQUENTIAL'],
        a.rows.map((r) => Object.values(r)),
        [1, 2, 3, 4, 5],
      ),
      '',
      `between-run difference (median): interleaved ` +
        `${a.medianBetweenRunDiffPoints.interleaved}, sequential ` +
        `${a.medianBetweenRunDiffPoints.sequential} points`,
      `claims reversed between the interleaved runs: ${a.reversedOrderings.join('; ') || 'none'}`,
      `cnilab compare interleaved-1 interleaved-2: ${a.compareVerdicts.join('; ') || 'no row better or worse'}`,
      `without the noise floor: ${a.compareVerdictsWithoutFloor.join('; ') || 'no row better or worse'}; every ` +
        `pair, rows better or worse (with floor/without): ${a.allPairs.join(', ')}`,
      `pairing, intervals covering the other run's ratio: ${Object.entries(a.pairingCoverage)
        .map(([p, c]) => `${p} ${c.coveredPct}% (median ±${c.medianHalfWidthPct}%)`)
        .join(', ')}`,
    ].join('\n') + '\n',
  );
}

async function main(): Promise<void> {
  const { from, keep, interleaving: legacy } = opts;
  const budget = budgetSec(opts.budget ?? (legacy ? '15m' : '2m'));
  const dir = from ?? keep ?? mkdtempSync(join(tmpdir(), 'cnilab-bench-stability-'));
  try {
    if (!from && !existsSync(dir)) mkdirSync(dir, { recursive: true });
    await (legacy ? interleaving : answers)(dir, from !== undefined, budget);
  } finally {
    if (!from && !keep) rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`bench/stability: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
