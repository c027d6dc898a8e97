/**
 * Measuring a plan: the samples are taken in the plan's order. A lab is up while its samples run
 * (brought up at its first, torn down after its last — always, also on error and abort); a cell's
 * servers run and its path is warmed up once while its samples run; around a counted row the
 * interfaces' counters (the hops) and the data path's processes are read.
 */
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FeatureReport } from '../doctor/features';
import { up } from '../lab/lab';
import { conflistFile } from '../lab/pods';
import type { LabState } from '../lab/state';
import { teardownLab } from '../lab/teardown';
import type { Topology } from '../topology/schema';
import { startIperf3Server, tcpSample, type Iperf3Server } from '../traffic/iperf3/run';
import { startSockperfServer, type SockperfServer } from '../traffic/sockperf/run';
import { DatapathMeter } from './datapath';
import { hops, snapshot, type CounterSnapshot } from './hops';
import { pathInLab, type PathInLab } from './paths';
import type { Cell, Plan, PlannedSample } from './plan';
import type { PathRecord, ResultRow } from './results-schema';
import { runTests } from './tests';
import { affinityArg, PER_SAMPLE_SEC, type Affinity, type Sample, type TestSettings } from './tests/test';

export type Phase = 'setupSec' | 'warmupSec' | 'measureSec' | 'teardownSec';

/** Seconds planned for a lab's set-up and tear-down, before any is measured here. */
export const LAB_PLAN_SEC = { setup: 4, teardown: 0.5 };

export interface MeasureOptions extends TestSettings {
  readonly topology: Topology;
  readonly features: FeatureReport;
  /** Seconds of one discarded TCP run per path before its samples (0: none). */
  readonly warmupSec: number;
  readonly affinity?: Affinity;
  /** Each architecture's configuration list is copied here. */
  readonly outDir: string;
  readonly signal?: AbortSignal;
  /** Called when a step starts; `timed` steps are counted when they end. */
  readonly progress: (step: string) => void;
  readonly timed: <T>(phase: Phase, plannedSec: number, body: () => Promise<T>) => Promise<T>;
}

/** A row's samples as measured, with what was read around it when it was counted. */
export interface MeasuredRow {
  readonly cell: Cell;
  readonly test: PlannedSample['test'];
  readonly params: PlannedSample['params'];
  readonly samples: Sample[];
  datapath?: ResultRow['datapath'];
}

export interface Measured {
  readonly rows: MeasuredRow[];
  readonly paths: PathRecord[];
}

const rowKey = (p: Pick<PlannedSample, 'cell' | 'test' | 'params'>): string =>
  `${p.cell.arch.name} ${p.cell.path} ${p.test} ${JSON.stringify(p.params)}`;

/** What is running for a cell while its samples are taken. */
interface CellRun {
  readonly where: PathInLab;
  readonly servers: (Iperf3Server | SockperfServer)[];
  meter?: DatapathMeter;
  before?: CounterSnapshot;
}

export async function measurePlan(plan: Plan, o: MeasureOptions): Promise<Measured> {
  const out: Measured = { rows: [], paths: [] };
  const rows = new Map<string, MeasuredRow>();
  const labs = new Map<string, LabState>();
  const cells = new Map<Cell, CellRun>();
  // Where each row, cell and lab is used for the last time: then it is finished, stopped, torn down.
  const last = { row: new Map<string, number>(), cell: new Map<Cell, number>(), lab: new Map<string, number>() };
  plan.samples.forEach(
    (s, i) => (last.row.set(rowKey(s), i), last.cell.set(s.cell, i), last.lab.set(s.cell.arch.name, i)),
  );
  const latency = plan.tests.some((t) => runTests.get(t).tool === 'sockperf');
  try {
    for (const [i, s] of plan.samples.entries()) {
      const lab = labs.get(s.cell.arch.name) ?? (await bringUp(s.cell, o, labs));
      const cell = cells.get(s.cell) ?? (await startCell(s.cell, lab, latency, o, cells));
      const key = rowKey(s);
      let row = rows.get(key);
      if (!row) {
        row = { cell: s.cell, test: s.test, params: s.params, samples: [] };
        rows.set(key, row);
        out.rows.push(row);
      }
      if (s.counted && !cell.meter) {
        cell.meter = new DatapathMeter(lab.lab, cell.where.nodes);
        cell.before = await snapshot(cell.where.stops);
      }
      row.samples.push(...(await takeSample(s, cell, o)));
      if (s.counted && last.row.get(key) === i) {
        row.datapath = cell.meter!.results();
        out.paths.push(
          pathRecord(s, cell, lab, hops(cell.where.stops, cell.before!, await snapshot(cell.where.stops))),
        );
        cell.meter = undefined;
      }
      if (last.cell.get(s.cell) === i) await stopCell(s.cell, cells);
      if (last.lab.get(s.cell.arch.name) === i) await tearDown(s.cell.arch.name, o, labs);
    }
  } finally {
    // Whatever failed, every lab goes: a server that will not stop does not keep its lab up.
    for (const c of [...cells.keys()]) await stopCell(c, cells).catch(() => undefined);
    for (const name of [...labs.keys()]) await tearDown(name, o, labs);
  }
  return out;
}

async function bringUp(cell: Cell, o: MeasureOptions, labs: Map<string, LabState>): Promise<LabState> {
  o.progress(`${cell.arch.name}: bringing the lab up`);
  const lab = await o.timed('setupSec', LAB_PLAN_SEC.setup, () =>
    up({ topology: o.topology, arch: cell.arch.name, signal: o.signal, features: o.features }),
  );
  labs.set(cell.arch.name, lab);
  if (cell.arch.control.attachesPods)
    copyFileSync(
      conflistFile(lab.lab, o.topology.nodes.find((n) => n.role === 'compute')!.name),
      join(o.outDir, `${cell.arch.name}.conflist`),
    );
  return lab;
}

async function tearDown(arch: string, o: MeasureOptions, labs: Map<string, LabState>): Promise<void> {
  const lab = labs.get(arch);
  if (!lab) return;
  labs.delete(arch);
  o.progress(`${arch}: tearing the lab down`);
  await o.timed('teardownSec', LAB_PLAN_SEC.teardown, () => teardownLab(lab.lab));
}

/** The cell's servers (iperf3, and sockperf when a latency test runs: `latency`), then one warm-up run. */
async function startCell(
  cell: Cell,
  lab: LabState,
  latency: boolean,
  o: MeasureOptions,
  cells: Map<Cell, CellRun>,
): Promise<CellRun> {
  const where = pathInLab(lab, cell.arch, cell.path, cell.endpoints);
  const run: CellRun = { where, servers: [startIperf3Server({ name: where.server }, where.serverIp)] };
  cells.set(cell, run);
  if (latency)
    run.servers.push(startSockperfServer({ name: where.server }, where.serverIp, { cpu: o.affinity?.server }));
  if (o.warmupSec > 0) {
    o.progress(`${cell.arch.name} ${cell.path}: warm-up`);
    const client = { name: where.client };
    await o.timed('warmupSec', o.warmupSec + PER_SAMPLE_SEC, () =>
      tcpSample({
        client,
        serverIp: where.serverIp,
        durationSec: o.warmupSec,
        affinity: affinityArg(o.affinity),
        signal: o.signal,
      }),
    );
  }
  return run;
}

async function stopCell(cell: Cell, cells: Map<Cell, CellRun>): Promise<void> {
  const run = cells.get(cell);
  cells.delete(cell);
  if (run) await Promise.all(run.servers.map((s) => s.stop()));
}

/** One planned entry: a sample (the data path's processes metered while the client runs), or a batch. */
async function takeSample(s: PlannedSample, cell: CellRun, o: MeasureOptions): Promise<Sample[]> {
  const t = runTests.get(s.test);
  const ctx = {
    settings: o,
    client: { name: cell.where.client },
    serverIp: cell.where.serverIp,
    affinity: o.affinity,
    signal: o.signal,
  };
  const name = `${s.cell.arch.name} ${s.cell.path}: ${s.test}`;
  const label = t.label(s.params);
  if ('batch' in t.measure) {
    const batch = t.measure.batch;
    o.progress(`${name}, ${o.repeats} × ${o.latencySec} s windows of one run`);
    return o.timed('measureSec', s.plannedSec, () => batch(ctx, s.params));
  }
  const sample = t.measure.sample;
  o.progress(`${name}${s.test === 'sweep' && label ? ` ${label}` : ''} ${s.repeat}/${o.repeats}`);
  const meter = s.counted ? cell.meter : undefined;
  await meter?.start();
  const one = await o.timed('measureSec', s.plannedSec, () => sample(ctx, s.params));
  await meter?.stop();
  return [one];
}

function pathRecord(s: PlannedSample, cell: CellRun, lab: LabState, h: PathRecord['hops']): PathRecord {
  return {
    arch: s.cell.arch.name,
    path: s.cell.path,
    client: s.cell.endpoints.client,
    server: s.cell.endpoints.server,
    mtu: cell.where.mtu,
    encapBytes: lab.topology.underlay.mtu - cell.where.mtu,
    measuredWith: s.test,
    hops: h,
  };
}
