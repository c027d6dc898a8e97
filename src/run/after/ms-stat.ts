/** Times of the tests after the rounds as results.json holds them: percentiles of milliseconds (pure). */
import { z } from 'zod';
import { figure } from '../../lib/format';
import { mean, percentile, round } from '../stats';

export const msStatSchema = z
  .object({
    n: z.number().int().positive(),
    p50: z.number(),
    p90: z.number(),
    p99: z.number(),
    mean: z.number(),
    min: z.number(),
    max: z.number(),
    samples: z.array(z.number()).describe('in the order taken'),
  })
  .describe('milliseconds; percentiles interpolated linearly between the sorted samples');

export type MsStat = z.infer<typeof msStatSchema>;

/** The figures of `ms`, rounded to hundredths of a millisecond. */
export function msStat(ms: readonly number[]): MsStat {
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

/** "p50 / p90 / p99", as every table of these tests shows a time. */
export const msPercentiles = (s: MsStat): string => `${figure(s.p50)} / ${figure(s.p90)} / ${figure(s.p99)}`;
