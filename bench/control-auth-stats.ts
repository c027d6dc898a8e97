/**
 * What bench/control-auth.ts makes of its rounds (pure). Each round gives, per lab, the median of
 * its attaches (ms); the round's ratio is the checking lab's median over the other's, so what
 * drifts on the machine between rounds divides out. The ratios' 95% interval is the project's
 * paired one (run/paired.ts `ratioStat`: Student's t on the logs of the per-round ratios, around
 * their geometric mean), and the verdict reads it: the checks' cost is "within the run's
 * intervals" when the interval holds 1, else the cost in % with its interval.
 */
import { ratioStat, type RatioStat } from '../src/run/paired';
import { median, round } from '../src/run/stats';

/** One round's medians (ms) of one figure: in the lab whose controller checks credentials, and in the one that does not. */
export interface RoundMedians {
  readonly on: number;
  readonly off: number;
}

/** A figure across the rounds: the medians of the rounds' medians, their same-round ratio, the verdict. */
export interface AuthCost {
  readonly onMs: number;
  readonly offMs: number;
  /** on / off, per round; its geometric mean and 95% interval. */
  readonly ratio: RatioStat;
  readonly verdict: string;
}

/** A ratio's distance from 1, as a signed percentage with one decimal ("+3.1%", "-0.4%"). */
export const signedPct = (ratio: number): string => {
  const p = round((ratio - 1) * 100, 1);
  return `${p > 0 ? '+' : p < 0 ? '-' : '±'}${Math.abs(p).toFixed(1)}%`;
};

/**
 * The verdict on an on/off ratio: "within the run's intervals" when its 95% interval holds 1;
 * otherwise what the checks cost (or save) in %, with the interval; "not measured" below 2 rounds.
 */
export function costVerdict(r: RatioStat): string {
  if (r.n < 2) return 'not measured (an interval needs 2 rounds or more)';
  const { low, high } = r.ci95;
  if (low <= 1 && 1 <= high) return "within the run's intervals";
  const what = r.geomean > 1 ? 'the checks cost' : 'the checks save';
  return `${what} ${signedPct(r.geomean)} (${signedPct(low)} to ${signedPct(high)}, 95%)`;
}

/** The cost of the checks on one figure, from its rounds' medians. */
export function authCost(rounds: readonly RoundMedians[]): AuthCost {
  if (rounds.length === 0) throw new Error('authCost: no rounds');
  const ratio = ratioStat(rounds.map((r) => r.on / r.off));
  return {
    onMs: round(median(rounds.map((r) => r.on)), 2),
    offMs: round(median(rounds.map((r) => r.off)), 2),
    ratio,
    verdict: costVerdict(ratio),
  };
}

/** The labs' order in round `k` (1-based): on first in odd rounds, off first in even ones — drift hits both alike. */
export const roundLabs = <T>(k: number, on: T, off: T): [T, T] => (k % 2 === 1 ? [on, off] : [off, on]);
