/**
 * `cnilab run`: for each architecture, bring a lab up; for each path, warm it up once, run every
 * selected test N times (iperf3, sockperf) while reading host CPU, the interfaces' counters and any
 * user-space data path; tear the lab down — always, also on error and abort. Returns results that
 * validate against results-v2 and writes them, with the CSV and the report, into the run folder.
 */
import { mkdirSync, copyFileSync, writeFileSync } from 'node:fs';
import { cpus, release } from 'node:os';
import { join } from 'node:path';
import { hasPods, type Architecture, type PathName } from '../arch/architecture';
import { probeFeatures, type FeatureReport } from '../doctor/features';
import { CnilabError } from '../lib/errors';
import { kuryrDatapath } from '../kuryr/control-plane';
import { up } from '../lab/lab';
import { conflistFile } from '../lab/pods';
import { teardownLab } from '../lab/teardown';
import type { Topology } from '../topology/schema';
import { latencyRunSec } from '../traffic/sockperf/run';
import { affinityArg, LATENCY_TESTS, measureCell, PLAN, resolveEndpoints, SWEEP_BYTES, type CellContext, type Phase } from './cell';
import { planCells, type Cell } from './matrix';
import { RESULTS_SCHEMA_VERSION, type PathRecord, type ResultRow, type RunResults, type TestName } from './results-schema';
import { round } from './stats';

export interface RunOptions {
  readonly topology: Topology;
  readonly archs: readonly Architecture[];
  readonly paths: readonly PathName[];
  readonly tests: readonly TestName[];
  /** Seconds per throughput sample. */
  readonly durationSec: number;
  /** Seconds per latency sample. */
  readonly latencySec: number;
  /** Seconds of one discarded TCP run per path before its tests. */
  readonly warmupSec: number;
  readonly repeats: number;
  /** Streams of tcp-parallel. */
  readonly streams: number;
  readonly udpRateMbps: number;
  readonly covThresholdPct: number;
  /** Pin clients to CPU 0 and servers to CPU 1 (when there are two or more). */
  readonly pin: boolean;
  /** Folder for results.json and the configuration lists; created. */
  readonly outDir: string;
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: RunProgress) => void;
  readonly version: string;
}

export interface RunProgress {
  /** What runs now, e.g. "flannel-vxlan inter-node: tcp 2/5". */
  readonly step: string;
  /** Steps (lab set-ups, warm-ups, samples, tear-downs) done and planned. */
  readonly done: number;
  readonly total: number;
  readonly elapsedSec: number;
  /** Estimated seconds left: the plan's, scaled by how the run has kept to it so far. */
  readonly etaSec: number;
}


export async function runBenchmark(o: RunOptions): Promise<RunResults> {
  const started = new Date();
  const features = await probeFeatures();
  // What every cell needs, checked before any lab is built.
  for (const f of ['root', 'iproute2', 'iperf3'] as const) {
    if (!features[f].ok) throw new CnilabError(f === 'root' ? 'NOT_ROOT' : 'FEATURE_MISSING', features[f].detail);
  }
  const { cells, skipped } = planCells(o.topology, o.archs, o.paths, features);
  if (cells.length === 0) {
    const why = skipped.length > 0 ? skipped.map((s) => `${s.arch}${s.path ? ` ${s.path}` : ''}: ${s.reason}`).join('; ') : `${o.archs.map((a) => a.name).join(', ')} ${o.archs.length === 1 ? 'has' : 'have'} no ${o.paths.join(' or ')} path (host: inter-node only; routed: the Kuryr architectures only)`;
    throw new CnilabError('INVALID_INPUT', `nothing to measure: ${why}`);
  }
  let tests = [...o.tests];
  if (!features.sockperf.ok && tests.some((t) => LATENCY_TESTS.includes(t))) {
    for (const t of tests.filter((x) => LATENCY_TESTS.includes(x))) for (const a of new Set(cells.map((c) => c.arch.name))) skipped.push({ arch: a, test: t, reason: `needs sockperf: ${features.sockperf.detail}` });
    tests = tests.filter((t) => !LATENCY_TESTS.includes(t));
  }
  mkdirSync(o.outDir, { recursive: true });
  const byArch = new Map<Architecture, Cell[]>();
  for (const c of cells) byArch.set(c.arch, [...(byArch.get(c.arch) ?? []), c]);

  // The plan, in steps and in seconds, for progress and its ETA.
  // A latency test is one sockperf run (cut into windows); the others, one client run per sample.
  const stepsOf = (t: TestName): number => (LATENCY_TESTS.includes(t) ? 1 : (t === 'sweep' ? SWEEP_BYTES.length : 1) * o.repeats);
  const secondsOf = (t: TestName): number => (LATENCY_TESTS.includes(t) ? latencyRunSec({ windows: o.repeats, windowSec: o.latencySec }) + PLAN.sockperfStart : o.durationSec + PLAN.perSample);
  const samplesPerCell = tests.reduce((n, t) => n + stepsOf(t), 0);
  const cellPlanSec = (o.warmupSec > 0 ? o.warmupSec + PLAN.perSample : 0) + tests.reduce((s, t) => s + stepsOf(t) * secondsOf(t), 0);
  const total = byArch.size * 2 + cells.length * (samplesPerCell + (o.warmupSec > 0 ? 1 : 0));
  const plannedSec = byArch.size * (PLAN.setup + PLAN.teardown) + cells.length * cellPlanSec;
  let done = 0;
  let plannedDone = 0;
  const t0 = performance.now();
  const elapsed = (): number => (performance.now() - t0) / 1000;
  const progress = (step: string): void => {
    const e = elapsed();
    // Once a tenth of the plan is done, scale what is left by how fast the run has kept to it.
    const pace = plannedDone > plannedSec / 10 ? e / plannedDone : 1;
    o.onProgress?.({ step, done, total, elapsedSec: Math.round(e), etaSec: Math.round(Math.max(0, plannedSec - plannedDone) * pace) });
  };
  const timing: Record<Phase, number> = { setupSec: 0, warmupSec: 0, measureSec: 0, teardownSec: 0 };
  const timed = async <T>(phase: Phase, planned: number, body: () => Promise<T>): Promise<T> => {
    const s = performance.now();
    try {
      return await body();
    } finally {
      timing[phase] += (performance.now() - s) / 1000;
      done++;
      plannedDone += planned;
    }
  };

  const affinity = o.pin && cpus().length >= 2 ? { client: 0, server: 1 } : undefined;
  const rows: Omit<ResultRow, 'baselinePct'>[] = [];
  const paths: PathRecord[] = [];
  for (const [arch, archCells] of byArch) {
    progress(`${arch.name}: bringing the lab up`);
    const lab = await timed('setupSec', PLAN.setup, () => up({ topology: o.topology, arch: arch.name, signal: o.signal, features }));
    try {
      if (hasPods(arch)) copyFileSync(conflistFile(lab.lab, o.topology.nodes.find((n) => n.role === 'compute')!.name), join(o.outDir, `${arch.name}.conflist`));
      for (const cell of archCells) {
        const ctx: CellContext = { o, lab, cell, ...resolveEndpoints(lab, cell), tests, affinity, progress, timed, secondsOf };
        const cellRows = await measureCell(ctx, (p) => paths.push(p));
        rows.push(...cellRows);
      }
    } finally {
      progress(`${arch.name}: tearing the lab down`);
      await timed('teardownSec', PLAN.teardown, () => teardownLab(lab.lab));
    }
  }
  progress('writing results');

  const finished = new Date();
  const durationSec = round((finished.getTime() - started.getTime()) / 1000, 1);
  const key = (r: Pick<ResultRow, 'test' | 'params'>): string => `${r.test} ${JSON.stringify(r.params)}`;
  const hostRows = new Map(rows.filter((r) => r.arch === 'host').map((r) => [key(r), r]));
  const results: RunResults = {
    schemaVersion: RESULTS_SCHEMA_VERSION,
    tool: { name: 'cnilab', version: o.version },
    startedAt: started.toISOString(),
    finishedAt: finished.toISOString(),
    durationSec,
    timing: {
      setupSec: round(timing.setupSec, 1),
      warmupSec: round(timing.warmupSec, 1),
      measureSec: round(timing.measureSec, 1),
      teardownSec: round(timing.teardownSec, 1),
      otherSec: round(Math.max(0, durationSec - timing.setupSec - timing.warmupSec - timing.measureSec - timing.teardownSec), 1),
    },
    lab: {
      name: o.topology.name,
      nodes: o.topology.nodes.length,
      computeNodes: o.topology.nodes.filter((n) => n.role === 'compute').length,
      underlayMtu: o.topology.underlay.mtu,
      podCidr: o.topology.podCidr,
    },
    settings: {
      tests,
      durationSec: o.durationSec,
      latencySec: o.latencySec,
      warmupSec: o.warmupSec,
      repeats: o.repeats,
      streams: o.streams,
      udpRateMbps: o.udpRateMbps,
      covThresholdPct: o.covThresholdPct,
      cpuAffinity: affinityArg(affinity) ?? null,
    },
    environment: environment(features),
    architectures: [...byArch.keys()].map((a) => ({ name: a.name, family: a.family, summary: a.summary, datapath: a.kuryr ? kuryrDatapath(a.kuryr, features) : (a.datapath ?? 'kernel') })),
    rows: rows.map((r) => {
      const base = hostRows.get(key(r))?.metrics[r.primary]?.median;
      const mine = r.metrics[r.primary]?.median;
      return { ...r, baselinePct: base && mine !== undefined ? round((mine / base) * 100, 1) : null };
    }),
    paths,
    skipped,
  };
  writeFileSync(join(o.outDir, 'results.json'), JSON.stringify(results, null, 2) + '\n');
  return results;
}

function environment(features: FeatureReport): RunResults['environment'] {
  return {
    kernel: release(),
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    iperf3: features.iperf3.detail,
    sockperf: features.sockperf.ok ? features.sockperf.detail : 'not installed',
    iproute2: features.iproute2.detail,
    node: process.version,
  };
}

