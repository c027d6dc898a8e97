/**
 * The contract of a run's test: what it measures on a path (its rows and their parameters), how one
 * sample of a row is taken, how its rows are named. One module per test beside this file; the
 * registry (index.ts) lists them. The run never asks which test it is running.
 */
import type { NetnsRef } from '../../lib/netns';
import type { CpuSplit } from '../../traffic/cpu/proc-stat';
import type { MetricName, ResultRow, TestName } from '../results-schema';

/** The tools a test's samples run; each a server the run starts on the path's server side. */
export type TestTool = 'iperf3' | 'sockperf' | 'iperf2' | 'crr';

/** Whether `tool` is on this machine, and if not why (crr is cnilab's own, always there). */
export function toolMissing(
  features: Readonly<Record<string, { readonly ok: boolean; readonly detail: string }>>,
  tool: TestTool,
): string | undefined {
  if (tool === 'crr') return undefined;
  return features[tool]!.ok ? undefined : features[tool]!.detail;
}

/** The run's settings a test reads. */
export interface TestSettings {
  /** Seconds per throughput sample. */
  readonly durationSec: number;
  /** Seconds of one latency sample: one sockperf run (latency), one iperf2 bounceback run (rtt). */
  readonly latencySec: number;
  /** Streams of tcp-parallel. */
  readonly streams: number;
  readonly udpRateMbps: number;
}

/** The CPUs clients and servers are pinned to. */
export interface Affinity {
  readonly client: number;
  readonly server: number;
}

/** An affinity as iperf3 -A takes it: "0,1". */
export const affinityArg = (a: Affinity | undefined): string | undefined => (a ? `${a.client},${a.server}` : undefined);

/** Where a sample is taken: the client's namespace, the server's address (its servers run). */
export interface TestContext {
  readonly settings: TestSettings;
  readonly client: NetnsRef;
  readonly serverIp: string;
  readonly affinity?: Affinity;
  readonly signal?: AbortSignal;
}

/** One sample of a test: its metrics, and host CPU while it ran (throughput tests). */
export interface Sample {
  readonly metrics: Partial<Record<MetricName, number>>;
  readonly retransmits?: number;
  readonly cpu?: CpuSplit;
}

export type Params = ResultRow['params'];

/** A sample started in the background (see RunTest.launch). */
export interface Launched {
  /** Resolves when the tool starts measuring. */
  readonly started: Promise<void>;
  readonly result: Promise<Sample>;
  /** Seconds from the start to the end of measuring. */
  readonly measuringSec: number;
}

export interface RunTest {
  readonly name: TestName;
  /** One line for the report and `--help`. */
  readonly summary: string;
  /** The metric its rows are ranked and compared by. */
  readonly primary: MetricName;
  /** The tool it needs on the machine (crr is cnilab's own: always there). */
  readonly tool: TestTool;
  /** Its rows on each path, by their parameters (most tests: one row). */
  params(s: TestSettings): Params[];
  /** Takes one sample of a row. */
  sample(ctx: TestContext, p: Params): Promise<Sample>;
  /**
   * For a tool that pauses after it starts (sockperf: 2 s): start a sample without waiting for it.
   * The run starts the next one while this one pauses, so that the pauses of a block of samples
   * overlap and their measuring periods follow each other back to back.
   */
  readonly launch?: (ctx: TestContext, p: Params) => Launched;
  /** Seconds planned for one sample (for progress, its ETA and the budget). */
  plannedSec(s: TestSettings): number;
  /** What tells its rows apart in a table, e.g. "4 streams" ('' for a single row). */
  label(p: Params): string;
}

/** Seconds a process start and its teardown add to a sample, before any is measured here. */
export const PER_SAMPLE_SEC = 0.4;
