/**
 * Benchmark: are a run's numbers the same the second time? The default matrix four times in one
 * invocation — interleaved, sequential, interleaved, sequential (the sequential runs take as many
 * rounds as the first interleaved one did) — then, per kernel-path row, the paired ratio to host,
 * its interval's half-width, and how far the two runs of each mode are apart. Targets:
 *   - median half-width ≤ 3% of the ratio (interleaved, kernel paths);
 *   - the between-run difference of kernel-path ratios (median over rows) at least 2× smaller
 *     interleaved than sequential, and at most 5 points of % of host (the largest row);
 *   - no ordering one interleaved run resolves is reversed by the other;
 *   - `cnilab compare` of the two interleaved runs calls no row better or worse.
 * Also: which pairing design (same round, or nearest in time) has intervals that cover the other
 * run's ratio in ≥ 90% of rows, and whether a cold first round differs from the later ones.
 *
 *   npm run bench:stability -- [--budget 15m] [--keep DIR] [--from DIR] [--json]
 * --from DIR analyses the four results.json kept by an earlier --keep DIR, without measuring.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { budgetSec } from '../src/cli/commands/run';
import { table } from '../src/cli/output';
import { run } from '../src/lib/exec';
import { REPO_ROOT } from '../src/lib/paths';
import { compareRuns } from '../src/report/compare';
import { noiseFloor, pairRatios, ratioStat, PAIRINGS, type Pairing, type TimedValue } from '../src/run/paired';
import { resultsSchema, type ResultRow, type RunResults } from '../src/run/results-schema';
import { kernelRows, median, wantJson } from './common';

const RUNS = ['interleaved-1', 'sequential-1', 'interleaved-2', 'sequential-2'] as const;
type RunName = (typeof RUNS)[number];

function flag(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
}

async function measure(dir: string, budget: number): Promise<Record<RunName, RunResults>> {
  const out = {} as Record<RunName, RunResults>;
  for (const name of RUNS) {
    const sequential = name.startsWith('sequential');
    const runDir = join(dir, name);
    const args = ['run', '--lab', `stab${name.slice(-1)}${sequential ? 's' : 'i'}`, '--out', runDir, '--json'];
    if (sequential) args.push('--sequential', '--repeats', String(out['interleaved-1'].schedule.rounds));
    else args.push('--budget', `${budget}s`);
    process.stderr.write(`stability: ${name}: cnilab ${args.join(' ')}\n`);
    const r = await run(process.execPath, [join(REPO_ROOT, 'dist/src/cli/main.js'), ...args], {
      check: false,
      timeoutMs: (budget * 3 + 600) * 1000,
    });
    if (r.code !== 0)
      throw new Error(`cnilab run (${name}) failed: ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`);
    out[name] = resultsSchema.parse(JSON.parse(r.stdout));
  }
  return out;
}

const load = (dir: string): Record<RunName, RunResults> =>
  Object.fromEntries(
    RUNS.map((n) => [n, resultsSchema.parse(JSON.parse(readFileSync(join(dir, n, 'results.json'), 'utf8')))]),
  ) as Record<RunName, RunResults>;

const key = (r: ResultRow): string => `${r.arch} ${r.path} ${r.test}`;

/** The primary metric's samples of a row with their round and time. */
const timed = (r: ResultRow): TimedValue[] =>
  r.metrics[r.primary]!.samples.map((value, i) => ({
    value,
    round: r.rounds[i]!.round,
    at: (r.rounds[i]!.startSec + r.rounds[i]!.endSec) / 2,
  }));

/** Per pairing design: the share of rows whose interval in one run covers the other run's ratio (both ways), and the median half-width. */
function coverage(a: RunResults, b: RunResults, pairing: Pairing): { coveredPct: number; medianHalfWidthPct: number } {
  const ratio = (res: RunResults, r: ResultRow) => {
    const base = res.rows.find(
      (x) => x.arch === 'host' && x.test === r.test && JSON.stringify(x.params) === JSON.stringify(r.params),
    );
    const rs = base ? pairRatios(timed(r), timed(base), pairing) : [];
    return rs.length > 1 ? ratioStat(rs) : undefined;
  };
  let covered = 0;
  let total = 0;
  const widths: number[] = [];
  for (const ra of a.rows.filter((r) => r.arch !== 'host')) {
    const rb = b.rows.find((x) => key(x) === key(ra));
    const [sa, sb] = [ratio(a, ra), rb && ratio(b, rb)];
    if (!sa || !sb) continue;
    total += 2;
    widths.push(sa.halfWidthPct, sb.halfWidthPct);
    if (sa.ci95.low <= sb.geomean && sb.geomean <= sa.ci95.high) covered++;
    if (sb.ci95.low <= sa.geomean && sa.geomean <= sb.ci95.high) covered++;
  }
  return {
    coveredPct: total ? Math.round((covered / total) * 1000) / 10 : NaN,
    medianHalfWidthPct: round1(median(widths)),
  };
}

/** A run's noise floor as this code estimates it (% of a ratio), from its rows' paired ratios. */
const floorOf = (r: RunResults): number =>
  round1((Math.exp(noiseFloor(r.rows.flatMap((x) => (x.ratio ? [x.ratio.ratios] : [])))) - 1) * 100);

/** Orderings one run resolves (rankings' steps and the paper's) that the other resolves the other way. */
function reversals(a: RunResults, b: RunResults): string[] {
  const resolved = (r: RunResults): Map<string, 'better' | 'worse'> => {
    const m = new Map<string, 'better' | 'worse'>();
    for (const g of r.claims.rankings)
      for (const s of g.steps)
        if (s.verdict !== 'indistinguishable') {
          m.set(`${g.path} ${g.test} ${s.a}/${s.b}`, s.verdict);
          m.set(`${g.path} ${g.test} ${s.b}/${s.a}`, s.verdict === 'better' ? 'worse' : 'better');
        }
    for (const p of r.claims.paper)
      if (p.verdict === 'holds' || p.verdict === 'reversed')
        m.set(`${p.path} ${p.test} ${p.higher}/${p.lower}`, p.verdict === 'holds' ? 'better' : 'worse');
    return m;
  };
  const [ma, mb] = [resolved(a), resolved(b)];
  return [...ma].filter(([k, v]) => mb.has(k) && mb.get(k) !== v).map(([k]) => k);
}

/**
 * How much pairing can help: the median over kernel-path rows of the correlation, round by round,
 * between the logs of a row's samples and of host's. Near 0 the noise is per sample and pairing
 * cannot cancel it; near 1 it is drift that pairing divides out.
 */
function pairCorrelation(r: RunResults): number {
  const cs = kernelRows(r).flatMap((row) => {
    const base = r.rows.find(
      (x) => x.arch === 'host' && x.test === row.test && JSON.stringify(x.params) === JSON.stringify(row.params),
    );
    if (!base || base === row) return [];
    const a = row.metrics[row.primary]!.samples.map(Math.log);
    const b = base.metrics[base.primary]!.samples.map(Math.log);
    const n = Math.min(a.length, b.length);
    if (n < 3) return [];
    const ma = a.slice(0, n).reduce((s, x) => s + x, 0) / n;
    const mb = b.slice(0, n).reduce((s, x) => s + x, 0) / n;
    let sab = 0;
    let saa = 0;
    let sbb = 0;
    for (let i = 0; i < n; i++) {
      sab += (a[i]! - ma) * (b[i]! - mb);
      saa += (a[i]! - ma) ** 2;
      sbb += (b[i]! - mb) ** 2;
    }
    return saa && sbb ? [sab / Math.sqrt(saa * sbb)] : [];
  });
  return Math.round(median(cs) * 100) / 100;
}

/** Round 1 against the later rounds: the median over rows of (round-1 value / median of the others). */
function coldStart(r: RunResults): number {
  const q = r.rows.flatMap((row) => {
    const s = row.metrics[row.primary]!.samples;
    if (s.length < 3) return [];
    return [s[0]! / median(s.slice(1))];
  });
  return Math.round(median(q) * 1000) / 1000;
}

function analyse(runs: Record<RunName, RunResults>) {
  const kernel = (r: RunResults) => kernelRows(r).filter((x) => x.ratio);
  const rows = kernel(runs['interleaved-1']).map((r) => {
    const pick = (n: RunName) => runs[n].rows.find((x) => key(x) === key(r));
    const [i1, i2, s1, s2] = [pick('interleaved-1'), pick('interleaved-2'), pick('sequential-1'), pick('sequential-2')];
    const pctOf = (x?: ResultRow): number => (x?.ratio ? x.ratio.median * 100 : NaN);
    return {
      row: key(r),
      i1: pctOf(i1),
      i2: pctOf(i2),
      halfWidthPct: i1?.ratio?.halfWidthPct ?? NaN,
      interleavedDiff: Math.abs(pctOf(i1) - pctOf(i2)),
      sequentialDiff: Math.abs(pctOf(s1) - pctOf(s2)),
    };
  });
  const finite = (xs: number[]) => xs.filter(Number.isFinite);
  const medHalf = median(finite(rows.map((r) => r.halfWidthPct)));
  const medI = median(finite(rows.map((r) => r.interleavedDiff)));
  const medS = median(finite(rows.map((r) => r.sequentialDiff)));
  const maxI = Math.max(...finite(rows.map((r) => r.interleavedDiff)));
  const cmp = compareRuns(
    { rows: runs['interleaved-1'].rows, floorPct: floorOf(runs['interleaved-1']) },
    { rows: runs['interleaved-2'].rows, floorPct: floorOf(runs['interleaved-2']) },
  );
  // The same runs of the same code, without the noise floor: what the floor buys.
  const bare = compareRuns({ rows: runs['interleaved-1'].rows }, { rows: runs['interleaved-2'].rows });
  // Every pair of the four runs is the same code on the same machine: no verdict is the right answer.
  const pairs = RUNS.flatMap((x, i) =>
    RUNS.slice(i + 1).map((y) => {
      const count = (floor: boolean): number =>
        compareRuns(
          { rows: runs[x].rows, ...(floor ? { floorPct: floorOf(runs[x]) } : {}) },
          { rows: runs[y].rows, ...(floor ? { floorPct: floorOf(runs[y]) } : {}) },
        ).changes.filter((c) => c.judgement !== 'within noise').length;
      return { pair: `${x}/${y}`, withFloor: count(true), withoutFloor: count(false) };
    }),
  );
  const verdicts = cmp.changes.filter((c) => c.judgement !== 'within noise').map((c) => `${c.key}: ${c.judgement}`);
  const rev = reversals(runs['interleaved-1'], runs['interleaved-2']);
  return {
    budgetSec: runs['interleaved-1'].schedule.budgetSec,
    runs: Object.fromEntries(
      RUNS.map((n) => [
        n,
        {
          durationSec: runs[n].durationSec,
          rounds: runs[n].schedule.rounds,
          stopped: runs[n].schedule.stopped,
          floorPct: floorOf(runs[n]),
          retried: runs[n].noise.retried,
          idleLabs: runs[n].noise.idleLabs,
        },
      ]),
    ),
    rows,
    medianHalfWidthPct: round1(medHalf),
    medianBetweenRunDiffPoints: { interleaved: round1(medI), sequential: round1(medS) },
    maxInterleavedDiffPoints: round1(maxI),
    improvement: round1(medS / medI),
    reversedOrderings: rev,
    compareVerdicts: verdicts,
    allPairs: pairs,
    compareVerdictsWithoutFloor: bare.changes
      .filter((c) => c.judgement !== 'within noise')
      .map((c) => `${c.key}: ${c.judgement}`),
    pairingCoverage: Object.fromEntries(
      PAIRINGS.map((p) => [p, coverage(runs['interleaved-1'], runs['interleaved-2'], p)]),
    ),
    pairCorrelation: Object.fromEntries(RUNS.map((n) => [n, pairCorrelation(runs[n])])),
    coldStartRatio: {
      'interleaved-1': coldStart(runs['interleaved-1']),
      'interleaved-2': coldStart(runs['interleaved-2']),
    },
    targets: {
      halfWidth: medHalf <= 3,
      twiceAsStable: medS >= 2 * medI,
      within5Points: maxI <= 5,
      noReversal: rev.length === 0,
      compareClean: verdicts.length === 0,
    },
  };
}

const round1 = (x: number): number => Math.round(x * 10) / 10;

async function main(): Promise<void> {
  const from = flag('from');
  const keep = flag('keep');
  const budget = budgetSec(flag('budget') ?? '15m');
  const dir = from ?? keep ?? mkdtempSync(join(tmpdir(), 'cnilab-bench-stability-'));
  try {
    if (!from) {
      if (keep && !existsSync(keep)) mkdirSync(keep, { recursive: true });
      await measure(dir, budget);
    }
    const a = analyse(load(dir));
    if (wantJson) {
      process.stdout.write(JSON.stringify(a, null, 2) + '\n');
      return;
    }
    const t = a.targets;
    const ok = (b: boolean): string => (b ? 'met' : 'MISSED');
    process.stdout.write(
      [
        `stability of the default matrix (budget ${a.budgetSec} s per interleaved run; sequential runs take as many rounds)`,
        table(
          ['RUN', 'TOOK', 'ROUNDS', 'STOPPED', 'FLOOR', 'RETRIED'],
          Object.entries(a.runs).map(([n, r]) => [
            n,
            `${r.durationSec} s`,
            String(r.rounds),
            r.stopped,
            `±${r.floorPct}%`,
            String(r.retried),
          ]),
          [1, 2, 4, 5],
        ),
        '',
        table(
          ['KERNEL-PATH ROW', 'RUN 1', 'RUN 2', '±', 'DIFF INTERLEAVED', 'DIFF SEQUENTIAL'],
          a.rows.map((r) => [
            r.row,
            `${r.i1.toFixed(1)}%`,
            `${r.i2.toFixed(1)}%`,
            `${r.halfWidthPct}%`,
            r.interleavedDiff.toFixed(1),
            r.sequentialDiff.toFixed(1),
          ]),
          [1, 2, 3, 4, 5],
        ),
        '',
        `median half-width ${a.medianHalfWidthPct}% of the ratio       target ≤ 3%: ${ok(t.halfWidth)}`,
        `between-run difference, median over rows: interleaved ${a.medianBetweenRunDiffPoints.interleaved} points, sequential ${a.medianBetweenRunDiffPoints.sequential} (${a.improvement}× smaller)   target ≥ 2×: ${ok(t.twiceAsStable)}`,
        `largest interleaved between-run difference ${a.maxInterleavedDiffPoints} points   target ≤ 5: ${ok(t.within5Points)}`,
        `orderings reversed between the interleaved runs: ${a.reversedOrderings.length ? a.reversedOrderings.join('; ') : 'none'}   target none: ${ok(t.noReversal)}`,
        `cnilab compare interleaved-1 interleaved-2: ${a.compareVerdicts.length ? a.compareVerdicts.join('; ') : 'no row better or worse'}   target none: ${ok(t.compareClean)}`,
        `every pair of the four runs, rows called better or worse (with the floor / without): ${a.allPairs.map((p) => `${p.pair} ${p.withFloor}/${p.withoutFloor}`).join(', ')}`,
        `cnilab compare without the noise floor: ${a.compareVerdictsWithoutFloor.length ? a.compareVerdictsWithoutFloor.join('; ') : 'no row better or worse'}`,
        `pairing: intervals covering the other run's ratio — ${Object.entries(a.pairingCoverage)
          .map(([p, c]) => `${p} ${c.coveredPct}% (median ±${c.medianHalfWidthPct}%)`)
          .join(', ')} (keep a design with ≥ 90%; of two, the narrower)`,
        `correlation of a row's and host's samples round by round (median over kernel-path rows): ${Object.entries(
          a.pairCorrelation,
        )
          .map(([n, c]) => `${n} ${c}`)
          .join(', ')}`,
        `cold first round: round-1 value / median of later rounds, median over rows — ${Object.entries(a.coldStartRatio)
          .map(([n, c]) => `${n} ${c}`)
          .join(', ')}`,
      ].join('\n') + '\n',
    );
  } finally {
    if (!from && !keep) rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`bench/stability: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
