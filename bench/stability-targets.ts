/**
 * bench/stability.ts's targets, declared: what a default run must answer, how honest its
 * intervals must be, what its second run must confirm, and what the earlier --interleaving
 * benchmark asked of interleaved rounds. judge (targets.ts) decides them all.
 */
import type { Parts } from './stability';
import { judge, type Judged, type Measurement, type Target } from './targets';

const TARGET = { answeredPct: 85, consistentPct: 90, medianAbsZ: 0.85, points: 5, durationSec: 300 } as const;

/** The targets of what the runs measured, each declared with its figure, judged together. */
export function stabilityTargets(a: Parts): Judged[] {
  const targets: Target[] = [];
  const measured: Record<string, Measurement> = {};
  const want = (t: Omit<Target, 'figure' | 'unit'> & { unit?: string }, m: Measurement): void => {
    targets.push({ unit: '', ...t, figure: t.name });
    measured[t.name] = m;
  };
  const none = { direction: 'at most', threshold: 0 } as const;
  for (const r of a.resolution) {
    want(
      {
        name: `${r.run}: rows answered (within ±${r.precisionPct}%, or A > B / A ≈ B)`,
        direction: 'at least',
        threshold: TARGET.answeredPct,
        unit: '%',
        why: 'a default run answers what it is asked on a quiet machine',
      },
      {
        figure: r.answeredPct,
        detail:
          `${r.answeredPct}% of ${r.rows} (resolved within ±${r.precisionPct}%: ${r.resolvedPct}%)` +
          `${r.notQuiet?.length ? `; not quiet before it: ${r.notQuiet.join(', ')}` : ''}`,
      },
    );
    const open = r.paper.orderings.filter((o) => !['holds', 'reversed', 'equivalent'].includes(o.verdict));
    want(
      {
        name: `${r.run}: paper orderings the kernel runs natively left undecided`,
        ...none,
        why: "the paper's orderings on kernel paths are what the run is for",
      },
      {
        figure: open.length,
        detail: r.paper.orderings.map((o) => `${o.claim}: ${o.verdict}`).join('; ') || 'none measured',
      },
    );
  }
  for (const p of a.coverage ? [a.coverage.moderated, a.coverage.plain] : []) {
    const honest = `honest intervals: a narrower one that disagrees is a defect, not a gain (${p.kind})`;
    want(
      {
        name: `coverage, ${p.kind} interval: (pair, row)s within combined 95%`,
        direction: 'at least',
        threshold: TARGET.consistentPct,
        unit: '%',
        why: honest,
      },
      { figure: p.consistentPct, detail: `${p.consistentPct}% of ${p.compared} (median ±${p.medianHalfWidthPct}%)` },
    );
    want(
      {
        name: `coverage, ${p.kind} interval: median |z| (0.67 when honest)`,
        direction: 'at most',
        threshold: TARGET.medianAbsZ,
        why: honest,
      },
      p.medianAbsZ,
    );
  }
  if (a.repeat) repeatTargets(a.repeat, want);
  for (const x of a.time.filter((x) => x.run.startsWith('repeat')))
    want(
      {
        name: `${x.run}: duration`,
        direction: 'at most',
        threshold: TARGET.durationSec,
        unit: 's',
        why: 'issue 16: the default run within 5 minutes, set-up and tear-down included',
      },
      {
        figure: x.durationSec,
        detail: `${x.rows} rows, ${x.samples} samples, ${x.secPerSample} s measuring per row-sample`,
      },
    );
  return judge(targets, measured);
}

/** The repeat part's targets: the second default run says what the first said. */
function repeatTargets(
  r: NonNullable<Parts['repeat']>,
  want: (t: Omit<Target, 'figure' | 'unit'> & { unit?: string }, m: Measurement) => void,
): void {
  const why = 'a run is worth what its second run confirms';
  const none = { direction: 'at most', threshold: 0, why } as const;
  const g = r.agreement;
  const k = r.largestKernelDiff;
  want(
    {
      name: 'repeat: rows within combined 95% (moderated)',
      direction: 'at least',
      threshold: TARGET.consistentPct,
      unit: '%',
      why,
    },
    { figure: g.consistentPct, detail: `${g.consistentPct}% of ${g.compared}` },
  );
  want(
    {
      name: "repeat: largest difference of a kernel path's % of host",
      direction: 'at most',
      threshold: TARGET.points,
      unit: 'points',
      why,
    },
    k
      ? { figure: k.points, detail: `${k.row}: ${k.a}% / ${k.b}%` }
      : { figure: undefined, detail: 'no kernel-path row in both' },
  );
  want(
    { name: 'repeat: resolved orderings or equivalences reversed', ...none },
    { figure: r.reversed.length, detail: r.reversed.join('; ') || 'none' },
  );
  want(
    { name: 'repeat: rows cnilab compare finds better or worse', ...none },
    {
      figure: r.compare.decided.length,
      detail:
        `${r.compare.decided.join('; ') || 'none'} (${r.compare.equivalent} equivalent within ` +
        `±${r.compare.equivalencePct}%, ${r.compare.notResolved} not resolved)`,
    },
  );
}

const INTERLEAVED = 'interleaved rounds paired by round make a run repeatable where sequential labs drift';
export const INTERLEAVING_TARGETS: readonly Target[] = [
  {
    name: "median half-width of a kernel path's ratio",
    figure: 'halfWidth',
    direction: 'at most',
    threshold: 3,
    unit: '%',
    why: INTERLEAVED,
  },
  {
    name: 'between-run difference, sequential / interleaved (medians)',
    figure: 'stability',
    direction: 'at least',
    threshold: 2,
    unit: '×',
    why: INTERLEAVED,
  },
  {
    name: 'largest interleaved between-run difference',
    figure: 'largestDiff',
    direction: 'at most',
    threshold: 5,
    unit: 'points',
    why: INTERLEAVED,
  },
  {
    name: 'claims reversed between the interleaved runs',
    figure: 'reversed',
    direction: 'at most',
    threshold: 0,
    unit: '',
    why: INTERLEAVED,
  },
  {
    name: 'rows cnilab compare finds better or worse between the interleaved runs',
    figure: 'compared',
    direction: 'at most',
    threshold: 0,
    unit: '',
    why: INTERLEAVED,
  },
];
