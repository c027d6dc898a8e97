/**
 * What a run will measure, decided before any lab is built (pure): the cells (architecture × path,
 * × underlay MTU when the run has several) and what is skipped with its reason, then the rows — every test's rows on
 * every cell. A round
 * takes one sample of each row; the scheduler (schedule.ts) orders them, the measuring step
 * (rounds.ts) decides how many rounds.
 */
import type { Architecture } from '../arch/architecture';
import type { PathName } from '../arch/vocabulary';
import { missingReason, type FeatureReport } from '../doctor/features';
import type { Topology } from '../topology/schema';
import { designedOut, endpointsFor, type Endpoints } from './paths';
import type { Skipped, TestName } from './results-schema';
import { runTests } from './tests';
import { toolMissing, type Params, type TestSettings, type TestTool } from './tests/test';

export interface Cell {
  readonly arch: Architecture;
  readonly path: PathName;
  readonly endpoints: Endpoints;
  /** The underlay MTU of its lab when the run has more than one (--underlay-mtu); else the topology's. */
  readonly mtu?: number;
}

/** The lab a cell runs in, within the run: its architecture's, one per MTU when the MTU is a dimension. */
export const labKey = (cell: Pick<Cell, 'arch' | 'mtu'>): string =>
  cell.mtu === undefined ? cell.arch.name : `${cell.arch.name} mtu ${cell.mtu}`;

/** A row of the run: a test's row (by its parameters) on a cell; one sample of it per round. */
export interface PlannedRow {
  readonly key: string;
  readonly cell: Cell;
  readonly test: TestName;
  readonly params: Params;
  /** The tool that measures it, and the lab it runs in: what the scheduler orders by. */
  readonly tool: TestTool;
  readonly lab: string;
  /** Around its first sample, the interfaces' counters (the hops) and the data path's processes are read. */
  readonly counted: boolean;
  /** Seconds planned for one sample. */
  readonly plannedSec: number;
}

export interface Plan {
  readonly cells: readonly Cell[];
  readonly skipped: Skipped[];
  /** The tests that will run (a test whose tool is missing is skipped). */
  readonly tests: readonly TestName[];
  readonly rows: readonly PlannedRow[];
}

export function planCells(
  topology: Topology,
  archs: readonly Architecture[],
  paths: readonly PathName[],
  features: FeatureReport,
): { cells: Cell[]; skipped: Skipped[] } {
  const cells: Cell[] = [];
  const skipped: Skipped[] = [];
  for (const arch of archs) {
    const missing = missingReason(features, arch.requires) ?? refusedProxy(topology, arch);
    if (missing) {
      skipped.push({ arch: arch.name, reason: missing });
      continue;
    }
    for (const path of paths) {
      if (designedOut(arch, path)) continue; // no news: the docs say which architecture has which path
      const noService = path === 'service' ? serviceMissing(arch) : undefined;
      if (noService) {
        skipped.push({ arch: arch.name, path, reason: noService });
        continue;
      }
      const why = arch.unsupported?.[path];
      if (why) {
        // The baseline is one row by design; an architecture with pods names what it lacks.
        if (arch.control.attachesPods) skipped.push({ arch: arch.name, path, reason: why });
        continue;
      }
      const ep = endpointsFor(topology, arch, path);
      if (typeof ep === 'string') skipped.push({ arch: arch.name, path, reason: ep });
      else cells.push({ arch, path, endpoints: ep });
    }
  }
  return { cells, skipped };
}

/** Why a run's proxied variant of an architecture cannot be built: its kind refuses the proxy. */
function refusedProxy(topology: Topology, arch: Architecture): string | undefined {
  if (!arch.proxied) return undefined;
  return arch.control.refuse?.({ ...topology, proxy: arch.proxied.proxy });
}

/** Why `arch` has no service path: no pods (the baseline), or no proxy in its lab. */
export function serviceMissing(arch: Architecture): string | undefined {
  if (!arch.control.attachesPods) return "attaches no pods: a Service's endpoints are pods";
  if (!arch.proxied) return 'no Service proxy in its lab: the service path runs in its --proxy variants (name+mode)';
  return undefined;
}

export const rowKey = (cell: Cell, test: TestName, params: Params): string =>
  `${cell.arch.name} ${cell.path} ${test} ${JSON.stringify(params)}${cell.mtu === undefined ? '' : ` mtu ${cell.mtu}`}`;

/**
 * The underlay MTUs as a dimension of the run: two or more distinct ones, else undefined (the topology's MTU, names
 * as they are).
 */
export function mtuDimension(mtus: readonly number[] | undefined): number[] | undefined {
  const u = [...new Set(mtus ?? [])];
  return u.length > 1 ? u : undefined;
}

/** Each cell once per underlay MTU (MTUs adjacent), or as it is without the dimension. */
export function cellsPerMtu(cells: readonly Cell[], mtus: readonly number[] | undefined): Cell[] {
  if (mtus === undefined) return [...cells];
  return cells.flatMap((c) => mtus.map((mtu) => ({ ...c, mtu })));
}

/** The rows of `tests` on `cells`, cell by cell; the first throughput row of a cell is counted. */
export function planRows(cells: readonly Cell[], tests: readonly TestName[], s: TestSettings): PlannedRow[] {
  const out: PlannedRow[] = [];
  const countedTest = tests.find((t) => runTests.get(t).tool === 'iperf3');
  for (const cell of cells) {
    for (const test of tests) {
      const t = runTests.get(test);
      for (const [i, params] of t.params(s).entries())
        out.push({
          key: rowKey(cell, test, params),
          cell,
          test,
          params,
          tool: t.tool,
          lab: labKey(cell),
          counted: test === countedTest && i === 0,
          plannedSec: t.plannedSec(s),
        });
    }
  }
  return out;
}

/** The whole plan; a test whose tool this machine lacks is skipped for every architecture, with the reason. */
export function planRun(
  topology: Topology,
  archs: readonly Architecture[],
  paths: readonly PathName[],
  tests: readonly TestName[],
  s: TestSettings,
  features: FeatureReport,
  underlayMtus?: readonly number[],
): Plan {
  // An architecture, path, test or MTU named twice is measured once.
  const unique = <T>(xs: readonly T[]): T[] => [...new Set(xs)];
  const planned = planCells(topology, unique(archs), unique(paths), features);
  const { skipped } = planned;
  const cells = cellsPerMtu(planned.cells, mtuDimension(underlayMtus));
  const runnable = unique(tests).filter((t) => !toolMissing(features, runTests.get(t).tool));
  for (const t of tests.filter((x) => !runnable.includes(x))) {
    const tool = runTests.get(t).tool;
    for (const a of new Set(cells.map((c) => c.arch.name)))
      skipped.push({ arch: a, test: t, reason: `needs ${tool}: ${toolMissing(features, tool)}` });
  }
  return { cells, skipped, tests: runnable, rows: planRows(cells, runnable, s) };
}
