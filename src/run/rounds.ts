/**
 * Measuring a plan in rounds. Interleaved (the default): every lab up at once, then rounds — one
 * sample of every row, in the round's random order (schedule.ts) — until every row's paired ratio
 * is known to within the precision, or the budget is spent (after a minimum of rounds), or a fixed
 * number of rounds is done. Sequential: one lab at a time, all its rounds, then the next.
 * Every lab is torn down at the end, on error and on abort.
 */
import type { FeatureReport } from '../doctor/features';
import { LabSet, LAB_PLAN_SEC, type LabSpec } from './labs';
import { namedNetnsInodes } from '../lib/netns';
import type { IdleLabs, NoiseLimits } from './noise';
import { converged, pairRatios, ratioStat, type Pairing, type TimedValue } from './paired';
import type { Plan, PlannedRow } from './plan';
import type { PathRecord, ResultRow } from './results-schema';
import { takeChain, takeCounted, takeSample, startCell, type CellRun, type TakenSample } from './sampling';
import { labOrder, roundOrder } from './schedule';
import { runTests } from './tests';
import { affinityArg, PER_SAMPLE_SEC, type Affinity, type TestSettings } from './tests/test';
import { tcpSample } from '../traffic/iperf3/run';
import type { Topology } from '../topology/schema';
import { measureAttach } from './attach/measure';
import { attachPlannedSec, type AttachCell, type AttachSettings } from './attach/plan';
import type { AttachJson } from './results-attach-schema';
import { measureJoin } from './join/measure';
import { JOIN_PLAN_SEC, type JoinCell, type JoinSettings } from './join/plan';
import type { JoinJson } from './results-join-schema';

export type Phase = 'setupSec' | 'warmupSec' | 'measureSec' | 'teardownSec';
export type StopReason = 'converged' | 'budget' | 'rounds';

/** How many rounds: a fixed number, or adaptive between a minimum and the budget. */
export type Rounds =
  | { readonly fixed: number }
  | { readonly min: number; readonly max: number; readonly precisionPct: number; readonly budgetSec: number };

export interface MeasureOptions extends TestSettings {
  /** Seconds of one discarded TCP run per cell before its first round (0: none). */
  readonly warmupSec: number;
  readonly topology: Topology;
  readonly features: FeatureReport;
  readonly rounds: Rounds;
  readonly sequential: boolean;
  readonly seed: number;
  readonly pairing: Pairing;
  readonly baseline: string;
  readonly limits: NoiseLimits;
  readonly affinity?: Affinity;
  readonly outDir: string;
  readonly signal?: AbortSignal;
  /** Seconds since the run started (the budget counts from there). */
  readonly elapsed: () => number;
  readonly progress: (step: string) => void;
  /** `steps`: how many steps of the progress the body is (a chained block: its samples). */
  readonly timed: <T>(phase: Phase, plannedSec: number, body: () => Promise<T>, steps?: number) => Promise<T>;
  /** Called when the plan of rounds changes (a round is added, the run stops adding). */
  readonly onRounds?: (planned: number) => void;
  /** The attach test, when it runs: after the rounds, in the labs still up (attach/measure.ts). */
  readonly attachTest?: { readonly cells: readonly AttachCell[]; readonly settings: AttachSettings };
  /** The join test, when it runs: after the attach test, in the labs still up (join/measure.ts). */
  readonly joinTest?: { readonly cells: readonly JoinCell[]; readonly settings: JoinSettings };
}

export interface MeasuredRow {
  readonly row: PlannedRow;
  readonly taken: TakenSample[];
  datapath?: ResultRow['datapath'];
  ebpf?: ResultRow['ebpf'];
}

export interface Measured {
  readonly rows: MeasuredRow[];
  readonly paths: PathRecord[];
  /** Each round's order, as row keys. */
  readonly order: string[][];
  readonly rounds: number;
  readonly stopped: StopReason;
  readonly idle?: IdleLabs;
  readonly labs: Record<string, string>;
  /** The attach test's figures, per architecture. */
  readonly attach?: AttachJson['archs'];
  /** The join test's figures, per architecture. */
  readonly join?: JoinJson['archs'];
}

/** The primary metric of a row's kept samples, with their round and time. */
export const timedValues = (m: MeasuredRow): TimedValue[] =>
  m.taken.map((t) => ({
    value: t.sample.metrics[runTests.get(m.row.test).primary] ?? NaN,
    round: t.round,
    at: (t.startSec + t.endSec) / 2,
  }));

/** The baseline row of a row: the baseline architecture's row of the same test, parameters and underlay MTU. */
export function baselineOf<T extends { row: PlannedRow }>(rows: readonly T[], r: T, baseline: string): T | undefined {
  if (r.row.cell.arch.name === baseline) return undefined;
  const same = (x: PlannedRow): string => `${x.test} ${JSON.stringify(x.params)} ${x.cell.mtu ?? ''}`;
  return rows.find((b) => b.row.cell.arch.name === baseline && same(b.row) === same(r.row));
}

/** The labs of a plan, in the order its rows first name them, then the attach and join tests' others. */
export function labSpecs(
  plan: Pick<Plan, 'rows'>,
  attach: readonly AttachCell[] = [],
  join: readonly JoinCell[] = [],
): LabSpec[] {
  const specs = new Map<string, LabSpec>();
  const cells = [...plan.rows.map((r) => ({ ...r.cell, lab: r.lab })), ...attach, ...join];
  for (const c of cells)
    if (!specs.has(c.lab))
      specs.set(c.lab, { key: c.lab, arch: c.arch, ...(c.mtu !== undefined ? { mtu: c.mtu } : {}) });
  return [...specs.values()];
}

/** The rows whose ratio (to the baseline, or their own values without one) is not yet within the precision. */
export function unresolved(
  rows: readonly MeasuredRow[],
  o: Pick<MeasureOptions, 'baseline' | 'pairing'>,
  precisionPct: number,
): MeasuredRow[] {
  return rows.filter((r) => {
    if (r.row.cell.arch.name === o.baseline) return false;
    const base = baselineOf(rows, r, o.baseline);
    const paired = base ? pairRatios(timedValues(r), timedValues(base), o.pairing) : [];
    // Without a baseline partner, a row's own values say how well it is known.
    const ratios = paired.length
      ? paired
      : timedValues(r)
          .map((v) => v.value)
          .filter((v) => v > 0);
    return ratios.length === 0 || !converged(ratioStat(ratios), precisionPct);
  });
}

export async function measureRounds(plan: Plan, o: MeasureOptions): Promise<Measured> {
  const specs = labSpecs(plan, o.attachTest?.cells, o.joinTest?.cells);
  const labs = LabSet.forRun(o, specs);
  const state: State = {
    rows: plan.rows.map((row) => ({ row, taken: [] })),
    paths: [],
    order: [],
    cells: new Map(),
    labs,
    t0: 0,
  };
  const latency = plan.tests.some((t) => runTests.get(t).tool === 'sockperf');
  try {
    if (o.sequential) return await sequential(plan, o, state, specs, latency);
    for (const l of specs) await labs.bringUp(l);
    for (const r of plan.rows) startCellOnce(r, state, latency, o);
    await warmUp(plan.rows, o, state);
    o.progress('the labs at idle');
    const idle = await labs.idle(1000);
    const stopped = plan.rows.length ? await interleaved(o, state) : 'rounds';
    const attach = await attachIn(specs, o, state);
    const join = await joinIn(specs, o, state);
    return { ...result(state, stopped, idle), ...(attach ? { attach } : {}), ...(join ? { join } : {}) };
  } finally {
    // Whatever failed, every lab goes: a server that will not stop does not keep its lab up.
    for (const c of state.cells.values()) await c.stop().catch(() => undefined);
    state.cells.clear();
    await labs.tearDownAll();
  }
}

interface State {
  readonly rows: MeasuredRow[];
  readonly paths: PathRecord[];
  readonly order: string[][];
  readonly cells: Map<string, CellRun>;
  readonly labs: LabSet;
  t0: number;
}

const cellKey = (r: PlannedRow): string => `${r.lab} ${r.cell.path}`;

function startCellOnce(r: PlannedRow, s: State, latency: boolean, o: MeasureOptions): void {
  const k = cellKey(r);
  if (!s.cells.has(k)) s.cells.set(k, startCell(r.cell, s.labs.up.get(r.lab)!, latency, o.affinity));
}

/** One discarded TCP run per cell (--warmup seconds; 0: none). */
async function warmUp(rows: readonly PlannedRow[], o: MeasureOptions, s: State): Promise<void> {
  if (o.warmupSec <= 0) return;
  for (const k of new Set(rows.map(cellKey))) {
    const c = s.cells.get(k)!;
    o.progress(`${k}: warm-up`);
    await o.timed('warmupSec', o.warmupSec + PER_SAMPLE_SEC, () =>
      tcpSample({
        client: { name: c.where.client },
        serverIp: c.where.serverIp,
        durationSec: o.warmupSec,
        affinity: affinityArg(o.affinity),
        signal: o.signal,
      }),
    );
  }
}

function result(s: State, stopped: StopReason, idle?: IdleLabs): Measured {
  return {
    rows: s.rows,
    paths: s.paths,
    order: s.order,
    rounds: s.order.length,
    stopped,
    ...(idle ? { idle } : {}),
    labs: Object.fromEntries(s.labs.names),
  };
}

/** The attach test in the labs of `specs` that are up, after their rounds. */
async function attachIn(
  specs: readonly LabSpec[],
  o: MeasureOptions,
  s: State,
): Promise<AttachJson['archs'] | undefined> {
  if (!o.attachTest) return undefined;
  const cells = o.attachTest.cells.filter((c) => specs.some((l) => l.key === c.lab) && s.labs.up.has(c.lab));
  const labs = cells.map((cell) => ({ cell, state: s.labs.up.get(cell.lab)! }));
  return o.timed('measureSec', attachPlannedSec(labs.length, o.attachTest.settings), () =>
    measureAttach(labs, o.attachTest!.settings, {
      seed: o.seed,
      signal: o.signal,
      progress: o.progress,
      labNetns: () => namedNetnsInodes(s.labs.namespaces()),
    }),
  );
}

/** The join test in the labs of `specs` that are up, after their rounds and the attach test. */
async function joinIn(specs: readonly LabSpec[], o: MeasureOptions, s: State): Promise<JoinJson['archs'] | undefined> {
  if (!o.joinTest) return undefined;
  const cells = o.joinTest.cells.filter((c) => specs.some((l) => l.key === c.lab) && s.labs.up.has(c.lab));
  const labs = cells.map((c) => ({ arch: c.arch.name, state: s.labs.up.get(c.lab)! }));
  const { samples } = o.joinTest.settings;
  return o.timed('measureSec', labs.length * samples * JOIN_PLAN_SEC, () =>
    measureJoin(labs, { seed: o.seed, samples, signal: o.signal, progress: o.progress }),
  );
}

/** Where the run stands after a round, for `nextRound`. */
export interface AfterRound {
  readonly round: number;
  /** Rows not yet within the precision. */
  readonly open: number;
  readonly elapsedSec: number;
  /** Mean seconds of a round so far, and what tearing every lab down will take. */
  readonly perRoundSec: number;
  readonly teardownSec: number;
}

/** Whether to take another round, or why not (pure). */
export function nextRound(r: Rounds, a: AfterRound): 'another' | StopReason {
  if ('fixed' in r) return a.round >= r.fixed ? 'rounds' : 'another';
  if (a.round < r.min) return 'another';
  if (a.open === 0) return 'converged';
  if (a.round >= r.max) return 'rounds';
  return a.elapsedSec + a.perRoundSec + a.teardownSec > r.budgetSec ? 'budget' : 'another';
}

/** Rounds over every lab until the rounds are done, the ratios converged, or the budget is spent. */
async function interleaved(o: MeasureOptions, s: State): Promise<StopReason> {
  s.t0 = performance.now();
  const durations: number[] = [];
  for (let round = 1; ; round++) {
    const t = performance.now();
    await oneRound(s.rows, round, o, s);
    durations.push((performance.now() - t) / 1000);
    const precision = 'fixed' in o.rounds ? 0 : o.rounds.precisionPct;
    const open = 'fixed' in o.rounds ? [] : unresolved(s.rows, o, precision);
    const next = nextRound(o.rounds, {
      round,
      open: open.length,
      elapsedSec: o.elapsed(),
      perRoundSec: durations.reduce((a, b) => a + b, 0) / durations.length,
      teardownSec: s.labs.up.size * LAB_PLAN_SEC.teardown,
    });
    if (next !== 'another') {
      o.onRounds?.(round);
      return next;
    }
    if (!('fixed' in o.rounds) && round >= o.rounds.min) {
      o.onRounds?.(round + 1);
      o.progress(`${open.length} rows not yet within ±${precision}%: round ${round + 1}`);
    }
  }
}

/** One lab at a time: up, its rows' rounds, down. */
async function sequential(
  plan: Plan,
  o: MeasureOptions,
  s: State,
  specs: readonly LabSpec[],
  latency: boolean,
): Promise<Measured> {
  const rounds = 'fixed' in o.rounds ? o.rounds.fixed : o.rounds.min;
  s.t0 = performance.now();
  const attach: NonNullable<Measured['attach']> = [];
  const join: NonNullable<Measured['join']> = [];
  for (const lab of labOrder([...plan.rows, ...specs.map((l) => ({ lab: l.key }))])) {
    await s.labs.bringUp(specs.find((l) => l.key === lab)!);
    const mine = s.rows.filter((m) => m.row.lab === lab);
    for (const m of mine) startCellOnce(m.row, s, latency, o);
    await warmUp(
      plan.rows.filter((r) => r.lab === lab),
      o,
      s,
    );
    if (mine.length) for (let round = 1; round <= rounds; round++) await oneRound(mine, round, o, s);
    for (const m of mine) {
      await s.cells.get(cellKey(m.row))?.stop();
      s.cells.delete(cellKey(m.row));
    }
    const spec = [specs.find((l) => l.key === lab)!];
    attach.push(...((await attachIn(spec, o, s)) ?? []));
    join.push(...((await joinIn(spec, o, s)) ?? []));
    await s.labs.tearDown(lab);
  }
  return { ...result(s, 'rounds'), ...(o.attachTest ? { attach } : {}), ...(o.joinTest ? { join } : {}) };
}

/** One sample of every given row, in the round's order; a block of a pausing tool is chained. */
async function oneRound(rows: readonly MeasuredRow[], round: number, o: MeasureOptions, s: State): Promise<void> {
  const order = roundOrder(rows, o.seed, round, (m) => m.row.test);
  const keys = order.map((m) => m.row.key);
  // Sequential: a round's order is the labs' orders one after the other.
  (s.order[round - 1] ??= []).push(...keys);
  const ns = namedNetnsInodes(s.labs.namespaces());
  const sampler = {
    settings: o,
    affinity: o.affinity,
    signal: o.signal,
    limits: o.limits,
    labNetns: () => ns,
    clock: () => (performance.now() - s.t0) / 1000,
  };
  for (let i = 0; i < order.length;) {
    const m = order[i]!;
    const t = runTests.get(m.row.test);
    const cell = s.cells.get(cellKey(m.row))!;
    if (t.launch) {
      let j = i;
      while (j < order.length && order[j]!.row.test === m.row.test) j++;
      const block = order.slice(i, j);
      o.progress(`round ${round}: ${m.row.test} on ${block.length} rows`);
      const taken = await o.timed(
        'measureSec',
        block.reduce((n, b) => n + b.row.plannedSec, 0),
        () =>
          takeChain(
            block.map((b) => ({ row: b.row, cell: s.cells.get(cellKey(b.row))! })),
            round,
            sampler,
          ),
        block.length,
      );
      block.forEach((b, k) => b.taken.push(taken[k]!));
      i = j;
      continue;
    }
    o.progress(
      `round ${round}: ${m.row.cell.arch.name} ${m.row.cell.path} ${m.row.test}${t.label(m.row.params) ? ` ${t.label(m.row.params)}` : ''}${m.row.cell.mtu === undefined ? '' : ` mtu ${m.row.cell.mtu}`}`,
    );
    if (m.row.counted && m.taken.length === 0) {
      const c = await o.timed('measureSec', m.row.plannedSec, () => takeCounted(m.row, cell, round, sampler));
      m.taken.push(c.taken);
      s.paths.push(c.path);
      if (c.datapath) m.datapath = c.datapath;
      if (c.ebpf) m.ebpf = c.ebpf;
    } else m.taken.push(await o.timed('measureSec', m.row.plannedSec, () => takeSample(m.row, cell, round, sampler)));
    i++;
  }
}
