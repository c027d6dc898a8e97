/**
 * bench/policy.ts's targets (issue 33's Benchmark) and its figures (pure): the catalogue's probe
 * matrices match the oracle exactly for every design; the eBPF design's connection rate at the
 * most rules is within 10% of its rate with none (policy lookups by identity do not grow with the
 * rules); one policy realized within 1 s (p99) at the most rules, for every design. The CRR ratio
 * carries a 95% percentile-bootstrap interval over the blocks' rates, the realization p99 one over
 * the changes — of the one run behind them, not rounds.
 */
import type { PolicyScaleJson } from '../src/run/policy-scale/schema';
import { percentileInterval, ratioInterval } from './service-targets';
import type { Measurement, Target } from './targets';

/** The designs the benchmark measures, in its order. */
export const POLICY_DESIGNS = ['iptables', 'nftables', 'ebpf'] as const;

export const POLICY_TARGETS: readonly Target[] = [
  ...POLICY_DESIGNS.map((d): Target => ({
    name: `${d}: probe-matrix differences from the oracle, whole catalogue`,
    figure: `${d}Differences`,
    direction: 'at most',
    threshold: 0,
    unit: '',
    why: 'issue 33: the correctness matrix has 0 differences for every design over the whole catalogue',
  })),
  {
    name: 'ebpf CRR, most rules / no rules',
    figure: 'ebpfCrrRatio',
    direction: 'at least',
    threshold: 0.9,
    unit: '×',
    why: "issue 33: the eBPF design's CRR at 10,000 rules within 10% of its CRR at 0",
  },
  ...POLICY_DESIGNS.map((d): Target => ({
    name: `${d}: realization latency p99, most rules`,
    figure: `${d}RealizationP99`,
    direction: 'at most',
    threshold: 1000,
    unit: 'ms',
    why: 'issue 33: realization p99 ≤ 1 s at 10,000 rules for every design',
  })),
];

/** What the catalogue found for one design: its differences, over how many cases. */
export interface CatalogueFigure {
  readonly design: string;
  readonly arch: string;
  readonly cases: number;
  readonly differences: number;
  /** The cases with differences, by name. */
  readonly failing: readonly string[];
}

/** The targets' figures: the catalogue's per design, and the policy-scale test's (the first lab of each design). */
export function policyFigures(
  catalogue: readonly CatalogueFigure[],
  j: PolicyScaleJson | undefined,
): Record<string, Measurement> {
  const rulesOf = (design: string) => j?.archs.flatMap((a) => a.designs).find((d) => d.design === design)?.rules ?? [];
  const out: Record<string, Measurement> = {};
  for (const d of POLICY_DESIGNS) {
    const c = catalogue.find((x) => x.design === d);
    out[`${d}Differences`] = c && {
      figure: c.differences,
      detail: `${c.cases} cases on ${c.arch}${c.failing.length ? `; differing: ${c.failing.join(', ')}` : ''}`,
    };
    const hi = rulesOf(d).at(-1);
    out[`${d}RealizationP99`] = hi?.realization && {
      figure: percentileInterval(hi.realization.samples, 99),
      detail: `${hi.realization.n} changes at ${hi.n} rules, p50 ${hi.realization.p50} ms`,
    };
  }
  const ebpf = rulesOf('ebpf');
  const [lo, hi] = [ebpf[0], ebpf.at(-1)];
  out['ebpfCrrRatio'] =
    lo && hi && lo.n !== hi.n
      ? {
          figure: ratioInterval(hi.crr.samples, lo.crr.samples, 50),
          detail:
            `${hi.crr.perSec}/s at ${hi.n} rules, ${lo.crr.perSec}/s at ${lo.n} (median of ${hi.crr.samples.length} ` +
            `blocks' rates each; interval: bootstrap over them)`,
        }
      : undefined;
  return out;
}
