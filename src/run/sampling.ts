/**
 * Taking samples: each with the noise around it (noise.ts) and taken once more when it was
 * disturbed; a block of samples of a pausing tool (sockperf) chained so that their pauses
 * overlap and their measuring periods follow each other without touching.
 */
import type { LabState } from '../lab/state';
import { startCrrServer } from '../traffic/crr/run';
import { IPERF2_PORT, startIperf2Server } from '../traffic/iperf2/run';
import { IPERF3_PORT, startIperf3Server } from '../traffic/iperf3/run';
import { SOCKPERF_PORT, startSockperfServer } from '../traffic/sockperf/run';
import { CRR_PORT } from './tests/crr';
import { DatapathMeter } from './datapath';
import { hops, snapshot } from './hops';
import { load1, judgeNoise, readNoise, type NoiseLimits, type NoiseReading, type SampleNoise } from './noise';
import { pathInLab, type PathInLab } from './paths';
import type { Cell, PlannedRow } from './plan';
import type { MeterGroupJson, PathRecord, ResultRow } from './results-schema';
import { runTests } from './tests';
import type { Affinity, Launched, Sample, TestContext, TestSettings, TestTool } from './tests/test';
import { sleep } from '../lib/exec';

/** A sample as kept: its values, its round, when it ran, the noise around it. */
export interface TakenSample {
  readonly sample: Sample;
  readonly round: number;
  /** Seconds from the start of measuring to the start and the end of the sample. */
  readonly startSec: number;
  readonly endSec: number;
  readonly noise: SampleNoise;
  /** It is the second try: the first was disturbed (its noise, or why). */
  readonly retriedBecause?: string;
}

/** What runs for a cell while the run measures it: its servers, and where its path goes. */
export interface CellRun {
  readonly where: PathInLab;
  readonly lab: LabState;
  /** Resolves once its servers listen. */
  readonly ready: Promise<void>;
  readonly stop: () => Promise<void>;
}

/**
 * Starts the servers of `tools` on the cell's server side (iperf3 always: the warm-up's); `ready`
 * resolves once every one that says so listens (crr's).
 */
export function startCell(cell: Cell, lab: LabState, tools: ReadonlySet<TestTool>, affinity?: Affinity): CellRun {
  const where = pathInLab(lab, cell.arch, cell.path, cell.endpoints);
  const ns = { name: where.server };
  const bind = where.bindIp ?? where.serverIp;
  const shift = where.portShift ?? 0;
  const servers: { stop(): Promise<void> }[] = [startIperf3Server(ns, bind, IPERF3_PORT + shift)];
  if (tools.has('sockperf'))
    servers.push(startSockperfServer(ns, bind, { port: SOCKPERF_PORT + shift, cpu: affinity?.server }));
  if (tools.has('iperf2'))
    servers.push(startIperf2Server(ns, bind, { port: IPERF2_PORT + shift, cpu: affinity?.server }));
  const ready = tools.has('crr')
    ? startCrrServer(ns, CRR_PORT + shift, where.server, bind, affinity?.server).then((s) => void servers.push(s))
    : Promise.resolve();
  // A server that failed to start fails the first sample that waits for it; until then it must not go unhandled.
  ready.catch(() => undefined);
  return {
    where,
    lab,
    ready,
    stop: async () => {
      await ready.catch(() => undefined);
      await Promise.all(servers.map((s) => s.stop()));
    },
  };
}

export interface SamplerOptions {
  readonly settings: TestSettings;
  readonly affinity?: Affinity;
  readonly signal?: AbortSignal;
  readonly limits: NoiseLimits;
  /** The inodes of the labs' namespaces: processes in them are not noise. */
  readonly labNetns: () => ReadonlySet<number>;
  /** Seconds since measuring started. */
  readonly clock: () => number;
}

const context = (cell: CellRun, o: SamplerOptions): TestContext => ({
  settings: o.settings,
  client: { name: cell.where.client },
  serverIp: cell.where.serverIp,
  affinity: o.affinity,
  signal: o.signal,
});

const whyNoise = (n: SampleNoise): string =>
  `steal ${n.stealPct}%, outside the labs ${n.outsidePct}%${n.top ? ` (most: ${n.top})` : ''}`;

/** One sample of a row, its noise read around it; a disturbed one is taken once more. */
export async function takeSample(
  row: PlannedRow,
  cell: CellRun,
  round: number,
  o: SamplerOptions,
  /** Why this is already the second try (it is then kept whatever its noise). */
  again?: string,
): Promise<TakenSample> {
  const t = runTests.get(row.test);
  let retriedBecause = again;
  await cell.ready;
  for (;;) {
    const ns = o.labNetns();
    const before = readNoise(ns);
    const startSec = o.clock();
    const sample = await t.sample(context(cell, o), row.params);
    const endSec = o.clock();
    const noise = judgeNoise(before, readNoise(ns), load1(), o.limits);
    if (!noise.disturbed || retriedBecause) return { sample, round, startSec, endSec, noise, retriedBecause };
    retriedBecause = whyNoise(noise);
  }
}

/**
 * A block of rows of a tool that pauses before it measures (RunTest.launch): the next sample is
 * started one measuring period (plus a gap) after the previous one was, so it pauses while the
 * previous measures. Each sample's noise is read from when it starts measuring to its end. Two
 * samples whose measuring overlapped, and a disturbed one, are taken again alone after the block.
 */
export async function takeChain(
  block: readonly { row: PlannedRow; cell: CellRun }[],
  round: number,
  o: SamplerOptions,
): Promise<TakenSample[]> {
  const GAP_SEC = 0.25;
  const launched: {
    row: PlannedRow;
    cell: CellRun;
    l: Launched;
    mark: Promise<{ startSec: number; before: NoiseReading }>;
    ns: ReadonlySet<number>;
  }[] = [];
  const why: (string | undefined)[] = [];
  const taken: (TakenSample | undefined)[] = [];
  try {
    let next = performance.now();
    for (const { row, cell } of block) {
      await cell.ready;
      await sleep(Math.max(0, next - performance.now()), o.signal);
      const ns = o.labNetns();
      const l = runTests.get(row.test).launch!(context(cell, o), row.params);
      // Awaited below, in order; until then a failure must not go unhandled.
      l.result.catch(() => undefined);
      next = performance.now() + (l.measuringSec + GAP_SEC) * 1000;
      const mark = l.started.then(() => ({ startSec: o.clock(), before: readNoise(ns) }));
      mark.catch(() => undefined);
      launched.push({ row, cell, l, mark, ns });
    }
    let prev: { startSec: number; measuringSec: number } | undefined;
    for (const [i, { l, mark, ns }] of launched.entries()) {
      const sample = await l.result;
      const endSec = o.clock();
      const { startSec, before } = await mark;
      const noise = judgeNoise(before, readNoise(ns), load1(), o.limits);
      taken.push({ sample, round, startSec, endSec, noise });
      if (noise.disturbed) why[i] ??= whyNoise(noise);
      // The previous sample sends until its timer ends its measuring: if this one started before,
      // both may have been disturbed (the previous one's last valid moments, this one's first).
      if (prev && startSec < prev.startSec + prev.measuringSec - 0.05) {
        why[i - 1] ??= 'it overlapped the next sample';
        why[i] ??= 'it overlapped the previous sample';
      }
      prev = { startSec, measuringSec: l.measuringSec };
    }
  } finally {
    // Whatever failed, no sample of the block is left running.
    await Promise.allSettled(launched.map((x) => x.l.result));
  }
  // Retries once the whole block is done, so that none overlaps a sample of the block.
  const kept: TakenSample[] = [];
  for (const [i, t] of taken.entries())
    kept.push(why[i] ? await takeSample(launched[i]!.row, launched[i]!.cell, round, o, why[i]) : t!);
  return kept;
}

/** The first sample of a counted row, with the path's counters and the data path's processes read around it. */
export async function takeCounted(
  row: PlannedRow,
  cell: CellRun,
  round: number,
  o: SamplerOptions,
): Promise<{ taken: TakenSample; path: PathRecord; datapath?: ResultRow['datapath']; meters?: ResultRow['meters'] }> {
  const meter = new DatapathMeter(cell.lab.lab, cell.where.nodes);
  // The kind's own counters (its programs'), where it has any on the path's nodes.
  const kind = row.cell.arch.control.meters?.(cell.lab.lab, cell.where.nodes);
  const before = await snapshot(cell.where.stops);
  await meter.start();
  kind?.start();
  const taken = await takeSample(row, cell, round, o);
  kind?.stop();
  await meter.stop();
  const h = hops(cell.where.stops, before, await snapshot(cell.where.stops));
  const datapath = meter.results();
  const group = kind?.results();
  const meters = group ? [group as MeterGroupJson] : undefined;
  const path: PathRecord = {
    arch: row.cell.arch.name,
    path: row.cell.path,
    client: row.cell.endpoints.client,
    server: row.cell.endpoints.server,
    ...(row.cell.mtu === undefined ? {} : { underlayMtu: row.cell.mtu }),
    ...(row.cell.ipFamily === undefined ? {} : { ipFamily: row.cell.ipFamily }),
    mtu: cell.where.mtu,
    encapBytes: cell.lab.topology.underlay.mtu - cell.where.mtu,
    measuredWith: row.test,
    hops: h,
    ...(meters ? { meters } : {}),
  };
  return { taken, path, ...(datapath ? { datapath } : {}), ...(meters ? { meters } : {}) };
}
