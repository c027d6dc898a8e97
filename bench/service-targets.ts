/**
 * bench/service.ts's targets (issue 32's Benchmark) and its figures from the service-scale test's
 * results (pure): the kubernetes.io blog's qualitative result — iptables' first-packet p50 grows
 * with the Services, nftables' stays flat, the eBPF proxy's tail is no worse than nftables' — and
 * one change programmed within 100 ms at the largest N. Each figure carries a 95% percentile-bootstrap
 * interval over the connections (or changes) of the one run behind it — not rounds: a tail
 * percentile of a few hundred connections moves from run to run more than its interval says.
 */
import { percentile } from '../src/run/stats';
import type { ServiceScaleJson } from '../src/run/service-scale/schema';
import type { Interval, Measurement, Target } from './targets';

export const SERVICE_TARGETS: readonly Target[] = [
  {
    name: 'iptables first-packet p50, most Services / 1 Service',
    figure: 'iptablesGrowth',
    direction: 'at least',
    threshold: 2,
    unit: '×',
    why: "issue 32: the blog's result — iptables' rules are walked one by one, so its first packet grows with N",
  },
  {
    name: 'nftables first-packet p50, most Services / 1 Service',
    figure: 'nftablesGrowth',
    direction: 'at most',
    threshold: 1.2,
    unit: '×',
    why: "issue 32: the blog's result — nftables' verdict map is one lookup whatever N",
  },
  {
    name: 'ebpf first-packet p99 / nftables first-packet p99, most Services',
    figure: 'ebpfOverNftablesP99',
    direction: 'at most',
    threshold: 1,
    unit: '×',
    why: "issue 32: the eBPF proxy's p99 at 30,000 Services is at most nftables'",
  },
  {
    name: 'nftables programming latency p99, most Services',
    figure: 'nftablesProgrammingP99',
    direction: 'at most',
    threshold: 100,
    unit: 'ms',
    why: 'issue 32: one change programmed within 100 ms at 30,000 Services',
  },
  {
    name: 'ebpf programming latency p99, most Services',
    figure: 'ebpfProgrammingP99',
    direction: 'at most',
    threshold: 100,
    unit: 'ms',
    why: 'issue 32: one change programmed within 100 ms at 30,000 Services',
  },
];

/** A seeded generator (mulberry32): the same intervals for the same figures. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const resample = (xs: readonly number[], r: () => number): number[] => xs.map(() => xs[Math.floor(r() * xs.length)]!);

/**
 * `stat(a) / stat(b)` with its 95% percentile-bootstrap interval: each sample set resampled with
 * replacement `rounds` times.
 */
export function ratioInterval(
  a: readonly number[],
  b: readonly number[],
  p: number,
  rounds = 2000,
  seed = 32,
): Interval {
  const r = rng(seed);
  const ratios: number[] = [];
  for (let i = 0; i < rounds; i++) ratios.push(percentile(resample(a, r), p) / percentile(resample(b, r), p));
  return {
    value: percentile(a, p) / percentile(b, p),
    low: percentile(ratios, 2.5),
    high: percentile(ratios, 97.5),
  };
}

/** A percentile of `xs` with its 95% bootstrap interval. */
export function percentileInterval(xs: readonly number[], p: number, rounds = 2000, seed = 32): Interval {
  const r = rng(seed);
  const ps: number[] = [];
  for (let i = 0; i < rounds; i++) ps.push(percentile(resample(xs, r), p));
  return { value: percentile(xs, p), low: percentile(ps, 2.5), high: percentile(ps, 97.5) };
}

/** The targets' figures from a service-scale result: each proxy's first line of figures (by proxy name). */
export function serviceFigures(j: ServiceScaleJson): Record<string, Measurement> {
  const of = (proxy: string) => j.archs.find((a) => a.proxy === proxy);
  const lo = (proxy: string) => of(proxy)?.counts[0];
  const hi = (proxy: string) => of(proxy)?.counts.at(-1);
  const growth = (proxy: string): Measurement => {
    const [a, b] = [hi(proxy), lo(proxy)];
    if (!a || !b || a.n === b.n) return undefined;
    return {
      figure: ratioInterval(a.firstPacket.samples, b.firstPacket.samples, 50),
      detail:
        `p50 ${a.firstPacket.p50} ms at ${a.n} Services, ${b.firstPacket.p50} ms at ${b.n} ` +
        `(${a.firstPacket.n} connections each; interval: bootstrap over them)`,
    };
  };
  const [e, n] = [hi('ebpf'), hi('nftables')];
  const programming = (proxy: string): Measurement => {
    const a = hi(proxy);
    return a
      ? {
          figure: percentileInterval(a.programming.samples, 99),
          detail: `${a.programming.n} changes at ${a.n} Services, p50 ${a.programming.p50} ms`,
        }
      : undefined;
  };
  return {
    iptablesGrowth: growth('iptables'),
    nftablesGrowth: growth('nftables'),
    ebpfOverNftablesP99:
      e && n && e.n === n.n
        ? {
            figure: ratioInterval(e.firstPacket.samples, n.firstPacket.samples, 99),
            detail:
              `p99 ${e.firstPacket.p99} ms (ebpf), ${n.firstPacket.p99} ms (nftables) at ${e.n} Services ` +
              `(${e.firstPacket.n} connections each)`,
          }
        : undefined,
    nftablesProgrammingP99: programming('nftables'),
    ebpfProgrammingP99: programming('ebpf'),
  };
}
