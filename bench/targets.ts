/**
 * Benchmark targets as data, judged by one function. A benchmark declares what it must show — a
 * figure it measures, a threshold and its direction, and why that threshold — and hands its
 * figures to `judge`; `targetLines` prints the verdicts and the JSON carries them as they are, the
 * same for every benchmark.
 *
 * A figure is a number, or an interval with its point (a same-round ratio's 95% interval): a
 * number meets its target or misses it; an interval that lies wholly on the target's side exceeds
 * it, wholly on the other side misses it, and is "met" in between (the run cannot tell).
 */
import { figure } from '../src/lib/format';

export type Direction = 'at least' | 'at most' | 'below';

export interface Target {
  /** What the benchmark must show, in words. */
  readonly name: string;
  /** The key of the figure in what the benchmark measured. */
  readonly figure: string;
  readonly direction: Direction;
  readonly threshold: number;
  /** How figure and threshold print: '×' (a ratio), 's', 'ms', '%' or '' (a count). */
  readonly unit: string;
  /** Why this threshold (the issue or the design reason). */
  readonly why: string;
  /** A stretch goal: missing it is "missed", not a miss of the benchmark. */
  readonly stretch?: boolean;
}

export interface Interval {
  readonly value: number;
  readonly low: number;
  readonly high: number;
  /** Rounds behind it. */
  readonly n?: number;
}

export type Figure = number | Interval;

/** What the benchmark measured for a target: the figure, and optionally what it is made of, in words. */
export type Measurement = Figure | { readonly figure: Figure | undefined; readonly detail: string } | undefined;

export type Verdict = 'exceeded' | 'met' | 'MISSED' | 'missed' | 'not measured';

export interface Judged extends Target {
  readonly value?: number;
  readonly low?: number;
  readonly high?: number;
  readonly n?: number;
  readonly detail?: string;
  readonly verdict: Verdict;
}

const SYMBOL: Record<Direction, string> = { 'at least': '≥', 'at most': '≤', below: '<' };

function holds(x: number, t: Target): boolean {
  if (t.direction === 'at least') return x >= t.threshold;
  if (t.direction === 'at most') return x <= t.threshold;
  return x < t.threshold;
}

const isFigure = (m: Measurement): m is Figure => typeof m === 'number' || (typeof m === 'object' && 'value' in m);

/** Every target against the figures measured; a figure absent (or NaN) is "not measured". */
export function judge(targets: readonly Target[], measured: Readonly<Record<string, Measurement>>): Judged[] {
  return targets.map((t): Judged => {
    const m = measured[t.figure];
    const f = isFigure(m) ? m : m?.figure;
    const detail = m !== undefined && !isFigure(m) ? { detail: m.detail } : {};
    const value = typeof f === 'number' ? f : f?.value;
    if (f === undefined || value === undefined || Number.isNaN(value))
      return { ...t, ...detail, verdict: 'not measured' };
    const miss: Verdict = t.stretch ? 'missed' : 'MISSED';
    if (typeof f === 'number') return { ...t, value, ...detail, verdict: holds(f, t) ? 'met' : miss };
    const [low, high] = [holds(f.low, t), holds(f.high, t)];
    const verdict: Verdict = low && high ? 'exceeded' : !low && !high ? miss : 'met';
    return { ...t, value, low: f.low, high: f.high, ...(f.n === undefined ? {} : { n: f.n }), ...detail, verdict };
  });
}

const show = (x: number, unit: string): string =>
  `${figure(x)}${unit === '' || unit === '×' || unit === '%' ? unit : ` ${unit}`}`;

/**
 * One line per target: name, the figure (and its interval), the threshold, the verdict; below it
 * the detail, and the reason for the threshold where the figure falls short of it.
 */
export function targetLines(judged: readonly Judged[]): string[] {
  if (judged.length === 0) return [];
  return [
    'Targets:',
    ...judged.flatMap((j) => {
      const want = `target ${SYMBOL[j.direction]} ${show(j.threshold, j.unit)}${j.stretch ? ' (stretch)' : ''}`;
      const rounds = j.n === undefined ? '' : `, ${j.n} rounds`;
      const range = j.low === undefined ? '' : ` (${figure(j.low)}–${figure(j.high!)}${rounds})`;
      const got = j.value === undefined ? 'not measured' : `${show(j.value, j.unit)}${range}`;
      const line = `  ${j.name}: ${got}   ${want}: ${j.verdict}`;
      const why = j.verdict === 'MISSED' || j.verdict === 'missed' ? [`    why this target: ${j.why}`] : [];
      return [line, ...(j.detail ? [`    ${j.detail}`] : []), ...why];
    }),
  ];
}
