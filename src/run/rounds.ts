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
import type { Pairing } from './paired';
import { allocate } from './allocate';
import { baselineOf, claimRowsOf } from './row-ratios';
import { dimensionText, type Plan, type PlannedRow } from './plan';
import type { PathRecord, ResultRow, Skipped, TestName } from './results-schema';
import { takeChain, takeCounted, takeSample, startCell, type CellRun, type TakenSample } from './sampling';
import { labOrder, roundOrder } from './schedule';
import { runTests } from './tests';
import { affinityArg, PER_SAMPLE_SEC, type Affinity, type TestSettings, type TestTool } from './tests/test';
import { tcpSample } from '../traffic/iperf3/run';
import type { Topology } from '../topology/schema';
import type { AfterPlanned } from './after/run-after';
import type { AfterCell } from './after/test';
import type { ProofRecord } from './results-proof-schema';
import { proveLabs } from './wire-proofs';

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
  /** The margin of equivalence (%) of the claims that keep rows in the rounds. */
  readonly equivalencePct: number;
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
  /** The tests after the rounds that run (each with labs), in the registry's order, in the labs still up. */
  readonly afterRounds: readonly AfterPlanned[];
}

/** One adaptive round: the rows sampled, those held for a claim, those the budget could not hold. */
export interface HeldRound {
  readonly round: number;
  readonly rows: number;
  readonly forClaims: string[];
  readonly cut: string[];
}

export interface MeasuredRow {
  readonly row: PlannedRow;
  readonly taken: TakenSample[];
  datapath?: ResultRow['datapath'];
  meters?: ResultRow['meters'];
}

export interface Measured {
  readonly rows: MeasuredRow[];
  readonly paths: PathRecord[];
  /** Each round's order, as row keys. */
  readonly order: string[][];
  readonly rounds: number;
  readonly stopped: StopReason;
  /** Adaptive rounds after the minimum: what each held; rows that left and when. */
  readonly held: HeldRound[];
  readonly left: { readonly row: string; readonly round: number }[];
  /** What the run found it cannot do as asked (a precision --max-rounds cannot reach). */
  readonly warnings: string[];
  readonly idle?: IdleLabs;
  readonly labs: Record<string, string>;
  /** The figures of each test after the rounds that ran, by its name: one entry per architecture. */
  readonly afterRounds: ReadonlyMap<string, unknown[]>;
  /** The wire proofs of the encrypted labs (wire-proofs.ts), and the rows of those that failed, as errors. */
  readonly proofs: ProofRecord[];
  readonly failed: Skipped[];
}

export { baselineOf, timedValues } from './row-ratios';

/** The labs of a plan, in the order its rows first name them, then the others of the tests after the rounds. */
export function labSpecs(plan: Pick<Plan, 'rows'>, after: readonly AfterCell[] = []): LabSpec[] {
  const specs = new Map<string, LabSpec>();
  const cells = [...plan.rows.map((r) => ({ ...r.cell, lab: r.lab })), ...after];
  for (const c of cells)
    if (!specs.has(c.lab))
      specs.set(c.lab, {
        key: c.lab,
        arch: c.arch,
        ...(c.mtu !== undefined ? { mtu: c.mtu } : {}),
        ...(c.ipFamily !== undefined ? { ipFamily: c.ipFamily } : {}),
      });
  return [...specs.values()];
}

export async function measureRounds(plan: Plan, o: MeasureOptions): Promise<Measured> {
  const specs = labSpecs(
    plan,
    o.afterRounds.flatMap((a) => a.cells),
  );
  const labs = LabSet.forRun(o, specs);
  const state: State = {
    rows: plan.rows.map((row) => ({ row, taken: [] })),
    paths: [],
    order: [],
    cells: new Map(),
    labs,
    held: [],
    warnings: [],
    left: new Map(),
    t0: 0,
    proofs: [],
    failed: [],
  };
  const tools = new Set(plan.tests.map((t) => runTests.get(t).tool));
  try {
    if (o.sequential) return await sequential(plan, o, state, specs, tools);
    for (const l of specs) await labs.bringUp(l);
    for (const r of plan.rows) startCellOnce(r, state, tools, o);
    await warmUp(plan.rows, o, state);
    await prove(specs, o, state);
    o.progress('the labs at idle');
    const idle = await labs.idle(1000);
    const stopped = plan.rows.length ? await interleaved(o, state) : 'rounds';
    return { ...result(state, stopped, idle), afterRounds: await afterIn(specs, o, state) };
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
  readonly held: HeldRound[];
  readonly warnings: string[];
  /** Each row's last round, by key, once it left the rounds. */
  readonly left: Map<string, number>;
  t0: number;
  readonly proofs: ProofRecord[];
  readonly failed: Skipped[];
}

/** The encrypted labs of `specs` proven on the wire; the rows of one that fails leave the rounds. */
async function prove(specs: readonly LabSpec[], o: MeasureOptions, s: State): Promise<void> {
  const up = new Map([...s.labs.up].map(([k, l]) => [k, l.lab]));
  const r = await proveLabs(specs, up, s.cells, s.rows, o);
  s.proofs.push(...r.proofs);
  s.failed.push(...r.failed);
}

const cellKey = (r: PlannedRow): string => `${r.lab} ${r.cell.path}`;

function startCellOnce(r: PlannedRow, s: State, tools: ReadonlySet<TestTool>, o: MeasureOptions): void {
  const k = cellKey(r);
  if (!s.cells.has(k)) s.cells.set(k, startCell(r.cell, s.labs.up.get(r.lab)!, tools, o.affinity));
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

function result(s: State, stopped: StopReason, idle?: IdleLabs): Omit<Measured, 'afterRounds'> {
  return {
    proofs: s.proofs,
    failed: s.failed,
    rows: s.rows,
    paths: s.paths,
    order: s.order,
    rounds: s.order.length,
    stopped,
    held: s.held,
    warnings: s.warnings,
    left: [...s.left].map(([row, round]) => ({ row, round })),
    ...(idle ? { idle } : {}),
    labs: Object.fromEntries(s.labs.names),
  };
}

/** Each test after the rounds, in the labs of `specs` that are up, after their rounds: its figures by name. */
async function afterIn(specs: readonly LabSpec[], o: MeasureOptions, s: State): Promise<Map<string, unknown[]>> {
  const out = new Map<string, unknown[]>();
  for (const { test, cells, settings } of o.afterRounds) {
    const here = cells.filter((c) => specs.some((l) => l.key === c.lab) && s.labs.up.has(c.lab));
    const labs = here.map((cell) => ({ cell, state: s.labs.up.get(cell.lab)! }));
    const figures = await o.timed('measureSec', test.plannedSec(here, settings), () =>
      test.measure(labs, settings, {
        seed: o.seed,
        signal: o.signal,
        progress: o.progress,
        labNetns: () => namedNetnsInodes(s.labs.namespaces()),
      }),
    );
    out.set(test.name, figures);
  }
  return out;
}

/** Where the run stands after a round, for `nextRound`. */
export interface AfterRound {
  readonly round: number;
  /** Rows not yet within the precision, and whether a claim still keeps rows in. */
  readonly open: number;
  readonly claimsOpen?: boolean;
  /** Rows the next round would hold (adaptive, after the minimum); 0 when the budget holds none. */
  readonly next?: number;
  readonly elapsedSec: number;
  /** Mean seconds of a round so far, and what tearing every lab down will take. */
  readonly perRoundSec: number;
  readonly teardownSec: number;
}

/** Whether to take another round, or why not (pure). */
export function nextRound(r: Rounds, a: AfterRound): 'another' | StopReason {
  if ('fixed' in r) return a.round >= r.fixed ? 'rounds' : 'another';
  if (a.round < r.min) return 'another';
  if (a.open === 0 && !a.claimsOpen) return 'converged';
  if (a.round >= r.max) return 'rounds';
  if (a.next !== undefined) return a.next > 0 ? 'another' : 'budget';
  return a.elapsedSec + a.perRoundSec + a.teardownSec > r.budgetSec ? 'budget' : 'another';
}

/** Seconds a block of a pausing tool adds once per round (sockperf's first pause, overlapped by the chain). */
const pauseSec = (test: string): number => (runTests.get(test as TestName).launch ? 2 : 0);

/**
 * Rounds over every lab until the rounds are done, every row is within the precision and no claim
 * keeps rows in, or the budget is spent. After the minimum, each round holds what allocate.ts
 * gives it: the rows still open (and their baseline), the claims' rows first.
 */
async function interleaved(o: MeasureOptions, s: State): Promise<StopReason> {
  s.t0 = performance.now();
  let active: MeasuredRow[] = s.rows;
  const spent = { planned: 0, actual: 0 };
  for (let round = 1; ; round++) {
    const t = performance.now();
    await oneRound(active, round, o, s);
    spent.actual += (performance.now() - t) / 1000;
    spent.planned +=
      active.reduce((n, m) => n + m.row.plannedSec, 0) +
      [...new Set(active.map((m) => m.row.test))].reduce((n, t) => n + pauseSec(t), 0);
    const teardownSec = s.labs.up.size * LAB_PLAN_SEC.teardown;
    if ('fixed' in o.rounds || round < o.rounds.min) {
      const next = nextRound(o.rounds, { round, open: 1, elapsedSec: o.elapsed(), perRoundSec: 0, teardownSec });
      if (next !== 'another') {
        o.onRounds?.(round);
        return next;
      }
      continue;
    }
    const rr = o.rounds;
    const a = allocate({
      rows: s.rows,
      claimRows: claimRowsOf(s.rows),
      ratio: o,
      precisionPct: rr.precisionPct,
      equivalencePct: o.equivalencePct,
      remainingSec: rr.budgetSec - o.elapsed() - teardownSec,
      pace: spent.planned > 0 ? spent.actual / spent.planned : 1,
      pauseSec,
      ...(rr.max < 1000 ? { maxRounds: rr.max } : {}),
    });
    if (a.reach && round === rr.min)
      s.warnings.push(
        `--precision ±${rr.precisionPct}% is below what --max-rounds ${rr.max} can reach for ${a.reach.rows} of ` +
          `the ${a.reach.open} open rows (the nearest of them about ±${a.reach.pct.toFixed(1)}%, by this run's ` +
          `spread after ${round} rounds); they stop at ${rr.max} rounds unresolved`,
      );
    const next = nextRound(rr, {
      round,
      open: a.open.length,
      claimsOpen: a.claimsOpen,
      next: a.next.length,
      elapsedSec: o.elapsed(),
      perRoundSec: 0,
      teardownSec,
    });
    if (next !== 'another') {
      o.onRounds?.(round);
      return next;
    }
    const key = (i: number): string => s.rows[i]!.row.key;
    const nextKeys = new Set(a.next.map(key));
    // A row sampled this round that no longer needs rounds has left (a later round may take it
    // again); an open row the budget cut is in `held`, not here.
    const needed = new Set([...a.open, ...a.cut].map(key));
    // A baseline row is needed while a row it pairs with is (cut by the budget, it has not left).
    for (const i of [...a.open, ...a.cut]) {
      const base = baselineOf(s.rows, s.rows[i]!, o.baseline);
      if (base) needed.add(base.row.key);
    }
    for (const m of active) if (!nextKeys.has(m.row.key) && !needed.has(m.row.key)) s.left.set(m.row.key, round);
    for (const k of nextKeys) s.left.delete(k);
    s.held.push({ round: round + 1, rows: a.next.length, forClaims: a.forClaims.map(key), cut: a.cut.map(key) });
    active = a.next.map((i) => s.rows[i]!);
    o.onRounds?.(round + 1);
    o.progress(
      `round ${round + 1}: ${a.next.length} of ${s.rows.length} rows (${a.open.length} not yet within ` +
        (`±${rr.precisionPct}%${a.forClaims.length ? `, ${a.forClaims.length} held for open claims` : ''}` +
          `${a.cut.length ? `, ${a.cut.length} cut by the budget` : ''})`),
    );
  }
}

/** One lab at a time: up, its rows' rounds, down. */
async function sequential(
  plan: Plan,
  o: MeasureOptions,
  s: State,
  specs: readonly LabSpec[],
  tools: ReadonlySet<TestTool>,
): Promise<Measured> {
  const rounds = 'fixed' in o.rounds ? o.rounds.fixed : o.rounds.min;
  s.t0 = performance.now();
  const after = new Map<string, unknown[]>(o.afterRounds.map((a) => [a.test.name, []]));
  for (const lab of labOrder([...plan.rows, ...specs.map((l) => ({ lab: l.key }))])) {
    await s.labs.bringUp(specs.find((l) => l.key === lab)!);
    const mine = s.rows.filter((m) => m.row.lab === lab);
    for (const m of mine) startCellOnce(m.row, s, tools, o);
    await warmUp(
      plan.rows.filter((r) => r.lab === lab),
      o,
      s,
    );
    await prove([specs.find((l) => l.key === lab)!], o, s);
    const proven = mine.filter((m) => s.rows.includes(m)); // a lab whose proof failed has no rows left
    if (proven.length) for (let round = 1; round <= rounds; round++) await oneRound(proven, round, o, s);
    for (const m of mine) {
      await s.cells.get(cellKey(m.row))?.stop();
      s.cells.delete(cellKey(m.row));
    }
    const spec = [specs.find((l) => l.key === lab)!];
    for (const [name, figures] of await afterIn(spec, o, s)) after.get(name)!.push(...figures);
    await s.labs.tearDown(lab);
  }
  return { ...result(s, 'rounds'), afterRounds: after };
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
      `round ${round}: ${m.row.cell.arch.name} ${m.row.cell.path} ${m.row.test}` +
        `${t.label(m.row.params) ? ` ${t.label(m.row.params)}` : ''}` +
        `${dimensionText(m.row.cell)}`,
    );
    if (m.row.counted && m.taken.length === 0) {
      const c = await o.timed('measureSec', m.row.plannedSec, () => takeCounted(m.row, cell, round, sampler));
      m.taken.push(c.taken);
      s.paths.push(c.path);
      if (c.datapath) m.datapath = c.datapath;
      if (c.meters) m.meters = c.meters;
    } else m.taken.push(await o.timed('measureSec', m.row.plannedSec, () => takeSample(m.row, cell, round, sampler)));
    i++;
  }
}
