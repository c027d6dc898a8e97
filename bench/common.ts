/** Shared by the benchmarks: medians, namespaces of their own, and table printing. */
import { addNetns, deleteNetns } from '../src/lib/netns';
import { PREFIX } from '../src/lab/names';
import type { RunResults } from '../src/run/results-schema';
import { NOISE_LIMITS } from '../src/run/noise';
import type { RunOptions } from '../src/run/run';

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

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

export function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

export const wantJson = process.argv.includes('--json');

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
export const benchProgress: RunOptions['onProgress'] = wantJson
  ? undefined
  : (p) => process.stderr.write(`[${p.done}/${p.total}] ${p.step}\n`);
