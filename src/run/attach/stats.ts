/** Attach times as results.json holds them: percentiles of milliseconds (pure). */
import type { AttachStatJson } from '../results-attach-schema';
import { mean, percentile, round } from '../stats';

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
