/**
 * `cnilab run`, in four steps a reader can follow:
 *   plan     the cells (architecture × path) and their rows, decided before any lab is built;
 *   measure  in rounds: every lab up at once and one sample of every row per round in a random
 *            order, until the ratios are known or the budget is spent (rounds.ts; always torn
 *            down, also on error and abort); or one lab at a time (--sequential);
 *   assemble each row's statistics, CPU per Gbit, paired ratio to the baseline; the run's noise
 *            and the claims its intervals support (assemble.ts);
 *   write    results.json into the run folder (the CLI writes the CSV and the report beside it).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import type { Architecture } from '../arch/architecture';
import { architectures } from '../arch';
import { BASELINE_ARCH, type PathName } from '../arch/vocabulary';
import { probeFeatures, type FeatureReport } from '../doctor/features';
import { proxyModes } from '../proxy';
import { CnilabError } from '../lib/errors';
import { linkRecords, refuseUnemulatable } from '../lab/link-emulation';
import { BIG_TCP_SIZE } from '../lib/netlink/big-tcp';
import type { Topology } from '../topology/schema';
import { assembleRows, claimsOf, environment, noiseOf } from './assemble';
import { moderateRows } from './row-ratios';
import { afterRoundsRecord, planAfter, type AfterPlanned } from './after/run-after';
import type { AfterPlanContext } from './after/test';
import { availableMiB, LAB_PLAN_SEC, memoryVerdict } from './labs';
import type { NoiseLimits } from './noise';
import type { Pairing } from './paired';
import { familyDimension, mtuDimension, planRun, type Plan } from './plan';
import type { Family } from '../lib/ip';
import { RESULTS_SCHEMA_VERSION, type RunResults, type Schedule, type TestName } from './results-schema';
import { measureRounds, type Measured, type Phase, type Rounds } from './rounds';
import { round } from './stats';
import { runTests } from './tests';
import { PROOF_PLAN_SEC } from './wire-proofs';
import { affinityArg, PER_SAMPLE_SEC, type TestSettings } from './tests/test';

export interface RunOptions extends TestSettings {
  readonly topology: Topology;
  /**
   * The underlay MTUs to measure, each in labs of its own; undefined (or one) keeps the topology's, with no change in
   * names.
   */
  readonly underlayMtus?: readonly number[];
  /**
   * The IP families to measure, each in single-stack labs of its own (--ip-family); undefined (or one) keeps the
   * topology's, with no change in names.
   */
  readonly ipFamilies?: readonly Family[];
  readonly archs: readonly Architecture[];
  readonly paths: readonly PathName[];
  readonly tests: readonly TestName[];
  /** The tests after the rounds (run/after/) to measure, by name, with their settings; not rows. */
  readonly afterRounds?: ReadonlyMap<string, unknown>;
  /** Seconds of one discarded TCP run per cell before its first round. */
  readonly warmupSec: number;
  /** A fixed number of rounds, or adaptive (minimum rounds, precision, budget). */
  readonly rounds: RoundsOption;
  readonly sequential: boolean;
  readonly seed: number;
  readonly pairing: Pairing;
  /** Two rows are equivalent when the interval of their ratio lies within ± this % (claims.ts). */
  readonly equivalencePct: number;
  readonly limits: NoiseLimits;
  readonly covThresholdPct: number;
  /** Pin clients to CPU 0 and servers to CPU 1 (when there are two or more). */
  readonly pin: boolean;
  /** Folder for results.json and the configuration lists; created. */
  readonly outDir: string;
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: RunProgress) => void;
  readonly version: string;
}

/** Fixed rounds, or adaptive: budgetSec undefined takes the default budget (defaultBudgetSec). */
export type RoundsOption =
  | { readonly fixed: number }
  | { readonly min: number; readonly max?: number; readonly precisionPct: number; readonly budgetSec?: number };

/** The default run's budget: five minutes, grown to fit the minimum rounds of a larger matrix. */
export const DEFAULT_BUDGET_SEC = 300;

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
  const t0 = performance.now();
  const features = await probeFeatures();
  // What every cell needs, checked before any lab is built.
  for (const f of ['root', 'iproute2', 'iperf3'] as const) {
    if (!features[f].ok) throw new CnilabError(f === 'root' ? 'NOT_ROOT' : 'FEATURE_MISSING', features[f].detail);
  }
  refuseUnemulatable(o.topology, features);
  const topology = topologyOfRun(o);
  const plan = planRun(topology, o.archs, o.paths, o.tests, o, features, o.underlayMtus, o.ipFamilies);
  const ctx = afterContext(o, topology, features);
  const after = planAfter(o.afterRounds ?? new Map(), ctx);
  plan.skipped.push(...after.flatMap((a) => a.skipped));
  if (plan.rows.length === 0 && !after.some((a) => a.cells.length))
    throw new CnilabError('INVALID_INPUT', `nothing to measure: ${nothingWhy(plan, o)}`);
  const estimate = estimateSec(plan, o, after);
  const fallback = o.sequential ? undefined : memoryVerdict(estimate.labs, availableMiB());
  const sequential = o.sequential || fallback !== undefined;
  const rounds = roundsFor(o.rounds, sequential, estimate);
  mkdirSync(o.outDir, { recursive: true });
  const clock = progressClock(plan, o, estimate, rounds);
  if (fallback)
    clock.progress(
      `measuring one lab at a time: ${fallback}` +
        `${'fixed' in o.rounds ? '' : `; adaptive rounds need every lab up, so each lab takes ${o.rounds.min} rounds`}`,
    );
  const affinity = o.pin && cpus().length >= 2 ? { client: 0, server: 1 } : undefined;
  const measured = await measureRounds(plan, {
    ...o,
    topology,
    features,
    affinity,
    sequential,
    rounds,
    baseline: BASELINE_ARCH,
    elapsed: () => (performance.now() - t0) / 1000,
    progress: clock.progress,
    timed: clock.timed,
    onRounds: clock.setRounds,
    afterRounds: after.filter((a) => a.cells.length),
  });
  clock.progress('writing results');
  const ratio = {
    baseline: BASELINE_ARCH,
    pairing: o.pairing,
    precisionPct: 'fixed' in rounds ? null : rounds.precisionPct,
  };
  const moderation = moderateRows(measured.rows, ratio);
  const rows = assembleRows(measured, o.covThresholdPct, ratio, moderation);
  plan.skipped.push(...measured.failed); // rows whose wire proof failed: errors, not figures
  const results = document(
    o,
    plan,
    { started, finished: new Date(), timing: clock.timing },
    {
      environment: environment(features),
      affinity: affinityArg(affinity) ?? null,
      architectures: await Promise.all(
        [...new Set([...plan.rows.map((r) => r.cell.arch), ...after.flatMap((a) => a.cells.map((c) => c.arch))])].map(
          async (a) => ({
            name: a.name,
            family: a.family,
            summary: a.summary,
            datapath: await datapathOf(a, features),
          }),
        ),
      ),
      schedule: schedule(o, measured, rounds, sequential, fallback),
      noise: noiseOf(measured, rows, o.limits, ratio, moderation),
      claims: claimsOf(measured, BASELINE_ARCH, o.equivalencePct),
      rows,
      paths: measured.paths,
      afterRounds: afterRoundsRecord(after, measured.afterRounds),
      proofs: measured.proofs,
    },
  );
  writeFileSync(join(o.outDir, 'results.json'), JSON.stringify(results, null, 2) + '\n');
  return results;
}

/**
 * What moves an architecture's packets, for the record; a proxied variant's adds what its proxy
 * runs on — iptables' backend among them ("iptables v1.8.9 (nf_tables)": Debian's default is
 * iptables-nft).
 */
async function datapathOf(a: Architecture, features: FeatureReport): Promise<string> {
  const own = `${a.control.datapath(features)}${a.bigTcpVariant ? `; BIG TCP (GSO/GRO ${BIG_TCP_SIZE} bytes)` : ''}`;
  if (!a.proxied) return own;
  return `${own}; Services: ${a.proxied.proxy} proxy on ${await proxyModes.get(a.proxied.proxy).backend()}`;
}

/** Seconds planned: labs up and down, warm-ups, one round (a block of a pausing tool pauses once). */
export interface Estimate {
  readonly labs: number;
  /** Architecture × path. */
  readonly cells: number;
  /** Labs up and down, the idle measurement, warm-ups. */
  readonly fixedSec: number;
  readonly roundSec: number;
  /** The tests after the rounds, in their labs (0 when none runs). */
  readonly afterSec: number;
  /** How many of them run (each a step of the progress). */
  readonly afterSteps: number;
}

export function estimateSec(
  plan: Plan,
  o: Pick<RunOptions, 'warmupSec'>,
  after: readonly AfterPlanned[] = [],
): Estimate {
  const running = after.filter((a) => a.cells.length);
  const labs = new Set([...plan.rows, ...running.flatMap((a) => a.cells)].map((c) => c.lab)).size;
  const cells = new Set(plan.rows.map((r) => `${r.lab} ${r.cell.path}`)).size;
  const pausing = new Set(plan.rows.filter((r) => runTests.get(r.test).launch).map((r) => r.test)).size;
  const encrypted = new Set(plan.rows.filter((r) => r.cell.arch.encryption).map((r) => r.lab)).size;
  return {
    labs,
    cells,
    fixedSec:
      labs * (LAB_PLAN_SEC.setup + LAB_PLAN_SEC.teardown) +
      encrypted * PROOF_PLAN_SEC +
      1 +
      (o.warmupSec > 0 ? cells * (o.warmupSec + PER_SAMPLE_SEC) : 0),
    roundSec: plan.rows.reduce((n, r) => n + r.plannedSec, 0) + pausing * 2,
    afterSec: running.reduce((n, a) => n + a.test.plannedSec(a.cells, a.settings), 0),
    afterSteps: running.length,
  };
}

/** The rounds the measuring step takes; an adaptive budget too short for its minimum is an error. */
function roundsFor(r: RoundsOption, sequential: boolean, e: Estimate): Rounds {
  if ('fixed' in r) return r;
  if (sequential) return { fixed: r.min };
  const need = Math.ceil(e.fixedSec + r.min * e.roundSec);
  if (r.budgetSec !== undefined && r.budgetSec < need)
    throw new CnilabError(
      'INVALID_INPUT',
      `--budget: ${r.budgetSec} s is shorter than this run's ${r.min} rounds (about ${need} ` +
        `s: ${Math.round(e.fixedSec)} ` +
        `s of labs up and down, ${Math.round(e.roundSec)} s a round); give at least ${need}s, fewer ` +
        `--min-rounds, or fewer architectures, paths or tests`,
    );
  const budgetSec = r.budgetSec ?? Math.max(DEFAULT_BUDGET_SEC, need);
  return { min: r.min, max: r.max ?? 1000, precisionPct: r.precisionPct, budgetSec };
}

function schedule(
  o: RunOptions,
  m: Measured,
  rounds: Rounds,
  sequential: boolean,
  fallback: string | undefined,
): Schedule {
  const adaptive = 'fixed' in rounds ? undefined : rounds;
  return {
    mode: sequential ? 'sequential' : 'interleaved',
    ...(fallback ? { fallback } : {}),
    seed: o.seed,
    rounds: m.rounds,
    minRounds: adaptive?.min ?? m.rounds,
    maxRounds: adaptive ? adaptive.max : m.rounds,
    precisionPct: adaptive?.precisionPct ?? null,
    budgetSec: adaptive?.budgetSec ?? null,
    stopped: m.stopped,
    pairing: o.pairing,
    baseline: BASELINE_ARCH,
    order: m.order,
    labs: m.labs,
    ...(adaptive ? { held: m.held, left: m.left.map((l) => ({ ...l, why: 'within precision' as const })) } : {}),
    ...(m.warnings.length ? { warnings: m.warnings } : {}),
  };
}

/** The registered architectures whose kind has a router: the only ones with a routed path. */
const routedArchs = (): string[] => architectures.names().filter((n) => architectures.get(n).control.router);

function nothingWhy(plan: Plan, o: RunOptions): string {
  if (plan.skipped.length > 0)
    return plan.skipped
      .map((s) => `${s.arch}${s.path ? ` ${s.path}` : ''}${s.test ? ` ${s.test}` : ''}: ${s.reason}`)
      .join('; ');
  return (
    `${o.archs.map((a) => a.name).join(', ')} ${o.archs.length === 1 ? 'has' : 'have'} no ${o.paths.join(' or ')} ` +
    `path (${BASELINE_ARCH}: inter-node only; routed: ${routedArchs().join(', ')} only)`
  );
}

/** Progress with an ETA (the plan's seconds, scaled by the pace so far) and the time spent per phase. */
function progressClock(plan: Plan, o: RunOptions, e: Estimate, rounds: Rounds) {
  const warmups = o.warmupSec > 0 ? e.cells : 0;
  let planned = 'fixed' in rounds ? rounds.fixed : rounds.min;
  const total = (): number => e.labs * 2 + warmups + planned * plan.rows.length + e.afterSteps;
  const plannedSec = (): number => e.fixedSec + planned * e.roundSec + e.afterSec;
  let done = 0;
  let plannedDone = 0;
  const t0 = performance.now();
  const timing: Record<Phase, number> = { setupSec: 0, warmupSec: 0, measureSec: 0, teardownSec: 0 };
  const progress = (step: string): void => {
    const el = (performance.now() - t0) / 1000;
    // Once a tenth of the plan is done, scale what is left by how fast the run has kept to it.
    const pace = plannedDone > plannedSec() / 10 ? el / plannedDone : 1;
    o.onProgress?.({
      step,
      done,
      total: total(),
      elapsedSec: Math.round(el),
      etaSec: Math.round(Math.max(0, plannedSec() - plannedDone) * pace),
    });
  };
  const timed = async <T>(phase: Phase, plannedStep: number, body: () => Promise<T>, steps = 1): Promise<T> => {
    const s = performance.now();
    try {
      return await body();
    } finally {
      timing[phase] += (performance.now() - s) / 1000;
      // A block of chained samples counts as its samples.
      done = Math.min(done + steps, total());
      plannedDone += plannedStep;
    }
  };
  const setRounds = (n: number): void => {
    planned = n;
  };
  return { progress, timed, timing, setRounds };
}

/** What the tests after the rounds plan from: the run's topology, its architectures, its dimensions. */
function afterContext(o: RunOptions, topology: Topology, features: FeatureReport): AfterPlanContext {
  const mtus = mtuDimension(o.underlayMtus);
  const families = familyDimension(o.ipFamilies);
  return {
    topology,
    archs: o.archs,
    features,
    ...(mtus ? { mtu: mtus[0], mtus } : {}),
    ...(families ? { ipFamilies: families } : {}),
  };
}

/**
 * The topology the run's labs are built from: with one --ip-family, that family alone (its labs single-stack, no
 * change in names); with two, each lab gets its own (labs.ts).
 */
export function topologyOfRun(o: Pick<RunOptions, 'topology' | 'ipFamilies'>): Topology {
  const one = o.ipFamilies && new Set(o.ipFamilies).size === 1 ? o.ipFamilies[0] : undefined;
  return one === undefined ? o.topology : { ...o.topology, ipFamilies: [one] };
}

function labRecord(o: RunOptions): RunResults['lab'] {
  const t = topologyOfRun(o);
  const mtus = mtuDimension(o.underlayMtus);
  const families = familyDimension(o.ipFamilies);
  const links = linkRecords(t);
  return {
    name: t.name,
    nodes: t.nodes.length,
    computeNodes: t.nodes.filter((n) => n.role === 'compute').length,
    underlayMtu: mtus?.[0] ?? t.underlay.mtu,
    ...(mtus ? { underlayMtus: mtus } : {}),
    ipFamilies: families ?? [...t.ipFamilies],
    ...(families ? { ipFamilyDimension: true as const } : {}),
    podCidr: t.podCidr,
    ...(t.ipFamilies.includes(6) || families ? { podCidr6: t.podCidr6 } : {}),
    ...(links.length ? { linkEmulation: links } : {}),
  };
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
  body: Pick<
    RunResults,
    'environment' | 'architectures' | 'rows' | 'paths' | 'schedule' | 'noise' | 'claims' | 'afterRounds' | 'proofs'
  > & {
    affinity: string | null;
  },
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
    lab: labRecord(o),
    settings: {
      tests: [...plan.tests, ...Object.keys(body.afterRounds ?? {})],
      durationSec: o.durationSec,
      latencySec: o.latencySec,
      warmupSec: o.warmupSec,
      repeats: body.schedule.rounds,
      streams: o.streams,
      udpRateMbps: o.udpRateMbps,
      covThresholdPct: o.covThresholdPct,
      equivalencePct: o.equivalencePct,
      cpuAffinity: body.affinity,
    },
    environment: body.environment,
    architectures: body.architectures,
    schedule: body.schedule,
    noise: body.noise,
    claims: body.claims,
    rows: body.rows,
    paths: body.paths,
    skipped: plan.skipped,
    ...(body.afterRounds ? { afterRounds: body.afterRounds } : {}),
    ...(body.proofs?.length ? { proofs: body.proofs } : {}),
  };
}
