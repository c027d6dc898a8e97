/** Attach times as results.json holds them: percentiles of milliseconds (pure). */
import type { AttachStatJson } from '../results-attach-schema';
import { mean, round } from '../stats';

/** The p-th percentile (0–100), interpolated linearly between the sorted values (numpy's default). */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) throw new Error('percentile of no values');
  const s = [...values].sort((a, b) => a - b);
  const at = (p / 100) * (s.length - 1);
  const lo = Math.floor(at);
  const hi = Math.min(lo + 1, s.length - 1);
  return s[lo]! + (s[hi]! - s[lo]!) * (at - lo);
}

export function attachStat(ms: readonly number[]): AttachStatJson {
  const r = (x: number): number => round(x, 2);
  return {
    n: ms.length,
    p50: r(percentile(ms, 50)),
    p90: r(percentile(ms, 90)),
    p99: r(percentile(ms, 99)),
    mean: r(mean(ms)),
    min: r(Math.min(...ms)),
    max: r(Math.max(...ms)),
    samples: ms.map(r),
  };
}
