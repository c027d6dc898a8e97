/**
 * `cnilab run`, in four steps a reader can follow:
 *   plan     the cells (architecture × path) and the samples, decided before any lab is built;
 *   measure  the samples in the plan's order: labs up and down around them (always torn down,
 *            also on error and abort), servers, warm-ups, counters (measure.ts);
 *   assemble each row's statistics, CPU per Gbit and share of the baseline (assemble.ts);
 *   write    results.json into the run folder (the CLI writes the CSV and the report beside it).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import type { Architecture, PathName } from '../arch/architecture';
import { probeFeatures } from '../doctor/features';
import { CnilabError } from '../lib/errors';
import type { Topology } from '../topology/schema';
import { assembleRow, environment, withBaseline } from './assemble';
import { LAB_PLAN_SEC, measurePlan, type Phase } from './measure';
import { planRun, type Plan } from './plan';
import { RESULTS_SCHEMA_VERSION, type RunResults, type TestName } from './results-schema';
import { round } from './stats';
import { affinityArg, PER_SAMPLE_SEC, type TestSettings } from './tests/test';

export interface RunOptions extends TestSettings {
  readonly topology: Topology;
  readonly archs: readonly Architecture[];
  readonly paths: readonly PathName[];
  readonly tests: readonly TestName[];
  /** Seconds of one discarded TCP run per path before its tests. */
  readonly warmupSec: number;
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
  const plan = planRun(o.topology, o.archs, o.paths, o.tests, o, features);
  if (plan.samples.length === 0) throw new CnilabError('INVALID_INPUT', `nothing to measure: ${nothingWhy(plan, o)}`);
  mkdirSync(o.outDir, { recursive: true });
  const clock = progressClock(plan, o);
  const affinity = o.pin && cpus().length >= 2 ? { client: 0, server: 1 } : undefined;
  const measured = await measurePlan(plan, { ...o, features, affinity, progress: clock.progress, timed: clock.timed });
  clock.progress('writing results');
  const finished = new Date();
  const results = document(
    o,
    plan,
    { started, finished, timing: clock.timing },
    {
      environment: environment(features),
      affinity: affinityArg(affinity) ?? null,
      architectures: [...new Set(plan.cells.map((c) => c.arch))].map((a) => ({
        name: a.name,
        family: a.family,
        summary: a.summary,
        datapath: a.control.datapath(features),
      })),
      rows: withBaseline(measured.rows.map((r) => assembleRow(r, o.covThresholdPct))),
      paths: measured.paths,
    },
  );
  writeFileSync(join(o.outDir, 'results.json'), JSON.stringify(results, null, 2) + '\n');
  return results;
}

function nothingWhy(plan: Plan, o: RunOptions): string {
  if (plan.skipped.length > 0)
    return plan.skipped
      .map((s) => `${s.arch}${s.path ? ` ${s.path}` : ''}${s.test ? ` ${s.test}` : ''}: ${s.reason}`)
      .join('; ');
  return `${o.archs.map((a) => a.name).join(', ')} ${o.archs.length === 1 ? 'has' : 'have'} no ${o.paths.join(' or ')} path (host: inter-node only; routed: the Kuryr architectures only)`;
}

/** Progress with an ETA (the plan's seconds, scaled by the pace so far) and the time spent per phase. */
function progressClock(plan: Plan, o: RunOptions) {
  const labs = new Set(plan.cells.map((c) => c.arch.name)).size;
  const warmups = o.warmupSec > 0 ? plan.cells.length : 0;
  const total = labs * 2 + warmups + plan.samples.length;
  const plannedSec =
    labs * (LAB_PLAN_SEC.setup + LAB_PLAN_SEC.teardown) +
    warmups * (o.warmupSec + PER_SAMPLE_SEC) +
    plan.samples.reduce((s, x) => s + x.plannedSec, 0);
  let done = 0;
  let plannedDone = 0;
  const t0 = performance.now();
  const timing: Record<Phase, number> = { setupSec: 0, warmupSec: 0, measureSec: 0, teardownSec: 0 };
  const progress = (step: string): void => {
    const e = (performance.now() - t0) / 1000;
    // Once a tenth of the plan is done, scale what is left by how fast the run has kept to it.
    const pace = plannedDone > plannedSec / 10 ? e / plannedDone : 1;
    o.onProgress?.({
      step,
      done,
      total,
      elapsedSec: Math.round(e),
      etaSec: Math.round(Math.max(0, plannedSec - plannedDone) * pace),
    });
  };
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
  return { progress, timed, timing };
}

interface Times {
  readonly started: Date;
  readonly finished: Date;
  readonly timing: Record<Phase, number>;
}

/** results.json: the run's settings, environment and timing around the assembled rows and paths. */
function document(
  o: RunOptions,
  plan: Plan,
  t: Times,
  body: Pick<RunResults, 'environment' | 'architectures' | 'rows' | 'paths'> & { affinity: string | null },
): RunResults {
  const durationSec = round((t.finished.getTime() - t.started.getTime()) / 1000, 1);
  const { setupSec, warmupSec, measureSec, teardownSec } = t.timing;
  return {
    schemaVersion: RESULTS_SCHEMA_VERSION,
    tool: { name: 'cnilab', version: o.version },
    startedAt: t.started.toISOString(),
    finishedAt: t.finished.toISOString(),
    durationSec,
    timing: {
      setupSec: round(setupSec, 1),
      warmupSec: round(warmupSec, 1),
      measureSec: round(measureSec, 1),
      teardownSec: round(teardownSec, 1),
      otherSec: round(Math.max(0, durationSec - setupSec - warmupSec - measureSec - teardownSec), 1),
    },
    lab: {
      name: o.topology.name,
      nodes: o.topology.nodes.length,
      computeNodes: o.topology.nodes.filter((n) => n.role === 'compute').length,
      underlayMtu: o.topology.underlay.mtu,
      podCidr: o.topology.podCidr,
    },
    settings: {
      tests: [...plan.tests],
      durationSec: o.durationSec,
      latencySec: o.latencySec,
      warmupSec: o.warmupSec,
      repeats: o.repeats,
      streams: o.streams,
      udpRateMbps: o.udpRateMbps,
      covThresholdPct: o.covThresholdPct,
      cpuAffinity: body.affinity,
    },
    environment: body.environment,
    architectures: body.architectures,
    rows: body.rows,
    paths: body.paths,
    skipped: plan.skipped,
  };
}
