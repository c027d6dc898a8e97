/** Shared by the benchmarks: namespaces of their own, the kernel-path rows of a run, the run settings. */
import { addNetns, deleteNetns } from '../src/lib/netns';
import { PREFIX } from '../src/lab/names';
import type { RunResults } from '../src/run/results-schema';
import { NOISE_LIMITS } from '../src/run/noise';
import type { RunOptions } from '../src/run/run';
import type { Interval } from './targets';

/** A namespace for a benchmark's own use, named so `cnilab down --all` finds it after a crash. */
export async function withBenchNetns<T>(name: string, fn: (ns: string) => Promise<T>): Promise<T> {
  const ns = `${PREFIX}bench-${name}`;
  await deleteNetns(ns);
  await addNetns(ns);
  try {
    return await fn(ns);
  } finally {
    await deleteNetns(ns);
  }
}

/**
 * The rows of a run whose traffic only the kernel moved: no TUN device on its path (the hops the
 * kernel counted say so) and no user-space datapath in its architecture (flannel's udp backends,
 * Open vSwitch's netdev datapath keep all their rows out).
 */
export function kernelRows(res: RunResults): RunResults['rows'] {
  const userSpace = new Set(
    res.paths.filter((p) => p.hops.some((h) => h.kind === 'tun')).map((p) => `${p.arch} ${p.path}`),
  );
  const userArchs = new Set(
    res.architectures.filter((a) => a.datapath && /user ?space/.test(a.datapath)).map((a) => a.name),
  );
  return res.rows.filter((x) => !userSpace.has(`${x.arch} ${x.path}`) && !userArchs.has(x.arch));
}

/**
 * The same-round ratio a/b of a design compared in the run (claims.designs) on `path`, by
 * `metric`, as a target's figure: its geometric mean and 95% interval; undefined when not measured.
 */
export function designRatio(
  res: RunResults,
  d: { readonly a: string; readonly b: string; readonly path: string; readonly metric: string },
): Interval | undefined {
  const design = res.claims.designs?.find((x) => x.a === d.a && x.b === d.b && x.path === d.path);
  const r = design?.metrics.find((m) => m.metric === d.metric)?.ratio;
  return r && { value: r.geomean, low: r.ci95.low, high: r.ci95.high, n: r.n };
}

/**
 * What a benchmark's `runBenchmark` call shares with the others: interleaved rounds paired by
 * round, one stream, the default noise limits, clients and servers pinned, 1 s latency samples
 * after a 1 s warm-up per path. Each benchmark adds its matrix, rounds, seed and folder.
 */
export const BENCH_RUN = {
  latencySec: 1,
  warmupSec: 1,
  sequential: false,
  pairing: 'round',
  limits: NOISE_LIMITS,
  streams: 1,
  udpRateMbps: 1000,
  covThresholdPct: 5,
  equivalencePct: 3,
  pin: true,
  version: 'bench',
} as const satisfies Partial<RunOptions>;

/** Progress lines on stderr ("[3/86] step"), none with --json. */
export const benchProgress = (json: boolean): RunOptions['onProgress'] =>
  json ? undefined : (p) => process.stderr.write(`[${p.done}/${p.total}] ${p.step}\n`);
