/**
 * What a run will measure, decided before any lab is built (pure): the cells (architecture × path,
 * × underlay MTU when the run has several) and what is skipped with its reason, then the rows — every test's rows on
 * every cell. A round
 * takes one sample of each row; the scheduler (schedule.ts) orders them, the measuring step
 * (rounds.ts) decides how many rounds.
 */
import { refuseBigTcp, refuseFamilies, type Architecture } from '../arch/architecture';
import { bigTcpArchitectures } from '../arch';
import type { Family } from '../lib/ip';
import { refuseServices } from '../lab/services';
import type { PathName } from '../arch/vocabulary';
import { missingReason, type FeatureReport } from '../doctor/features';
import type { Topology } from '../topology/schema';
import { designedOut, endpointsFor, type Endpoints } from './paths';
import { baseName } from './proxied';
import type { Skipped, TestName } from './results-schema';
import { runTests } from './tests';
import { toolMissing, type Params, type TestSettings, type TestTool } from './tests/test';

export interface Cell {
  readonly arch: Architecture;
  readonly path: PathName;
  readonly endpoints: Endpoints;
  /** The underlay MTU of its lab when the run has more than one (--underlay-mtu); else the topology's. */
  readonly mtu?: number;
  /** The IP family of its lab's pods when the run has more than one (--ip-family); else the topology's first. */
  readonly ipFamily?: Family;
}

/** A cell's dimensions as words: " mtu 9000", " IPv6" ('' without dimensions). */
export const dimensionText = (c: {
  readonly mtu?: number | undefined;
  readonly ipFamily?: Family | undefined;
}): string => `${c.mtu === undefined ? '' : ` mtu ${c.mtu}`}${c.ipFamily === undefined ? '' : ` IPv${c.ipFamily}`}`;

/** The lab a cell runs in, within the run: its architecture's, one per MTU and family when they are dimensions. */
export const labKey = (cell: Pick<Cell, 'arch' | 'mtu' | 'ipFamily'>): string =>
  `${cell.arch.name}${dimensionText(cell)}`;

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
  /** The IP family its pods speak (its cell's, else the topology's first). */
  readonly ipFamily: Family;
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
    const missing =
      bigTcpRefused(topology, arch) ??
      missingReason(features, [...arch.requires, ...(topology.bigTcp ? ['big-tcp'] : [])]) ??
      refusedProxy(topology, arch) ??
      familyRefused(topology, arch);
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

/** Why `arch` cannot give pods the topology's families: its kind's own reason, else the families it has. */
function familyRefused(topology: Topology, arch: Architecture): string | undefined {
  const why = refuseFamilies(arch, topology.ipFamilies);
  return why && (arch.control.refuse?.(topology) ?? why);
}

/**
 * Why `arch` cannot have BIG TCP where the run asks it (its --big-tcp variant, or the topology's bigTcp): it is not an
 * option of the architecture the variant is built from.
 */
function bigTcpRefused(topology: Topology, arch: Architecture): string | undefined {
  const ask = arch.bigTcpVariant !== undefined || topology.bigTcp === true;
  return refuseBigTcp({ ...arch, name: baseName(arch) }, ask, bigTcpArchitectures());
}

/** Why a run's proxied variant of an architecture cannot be built: its kind refuses the proxy. */
function refusedProxy(topology: Topology, arch: Architecture): string | undefined {
  if (!arch.proxied) return undefined;
  const t = { ...topology, proxy: arch.proxied.proxy };
  return arch.control.refuse?.(t) ?? refuseServices(t, arch.control.attachesPods);
}

/** Why `arch` has no service path: no pods (the baseline), or no proxy in its lab. */
export function serviceMissing(arch: Architecture): string | undefined {
  if (!arch.control.attachesPods) return "attaches no pods: a Service's endpoints are pods";
  if (!arch.proxied) return 'no Service proxy in its lab: the service path runs in its --proxy variants (name+mode)';
  return undefined;
}

export const rowKey = (cell: Cell, test: TestName, params: Params): string =>
  `${cell.arch.name} ${cell.path} ${test} ${JSON.stringify(params)}${dimensionText(cell)}`;

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

/** The IP families as a dimension of the run: two, else undefined (the topology's first family, names as they are). */
export function familyDimension(families: readonly Family[] | undefined): Family[] | undefined {
  const u = [...new Set(families ?? [])];
  return u.length > 1 ? u : undefined;
}

/**
 * Each cell once per IP family (families adjacent), or as it is without the dimension; an architecture whose pods
 * cannot have a family is skipped for it, with the reason.
 */
export function cellsPerFamily(
  topology: Topology,
  cells: readonly Cell[],
  families: readonly Family[] | undefined,
  skipped: Skipped[],
): Cell[] {
  if (families === undefined) return [...cells];
  const refused = new Set<string>();
  return cells.flatMap((c) =>
    families.flatMap((ipFamily) => {
      const t = { ...topology, ipFamilies: [ipFamily] };
      const why = familyRefused(t, c.arch) ?? refusedProxy(t, c.arch);
      if (!why) return [{ ...c, ipFamily }];
      if (!refused.has(`${c.arch.name} ${ipFamily}`)) skipped.push({ arch: c.arch.name, ipFamily, reason: why });
      refused.add(`${c.arch.name} ${ipFamily}`);
      return [];
    }),
  );
}

/**
 * Why `test` has no row in `family`: its tool cannot speak it (Debian 12's sockperf 3.7 takes IPv4 addresses only:
 * the rtt test, iperf2's TCP round trips, runs in both); undefined when it can.
 */
export function familyMissing(tool: TestTool, family: Family | undefined): string | undefined {
  return tool === 'sockperf' && family === 6
    ? "needs sockperf in IPv6: this sockperf (3.7, Debian 12's) takes IPv4 addresses only; " +
        'use --tests rtt for round trips in both families'
    : undefined;
}

/** The rows of `tests` on `cells`, cell by cell; the first throughput row of a cell is counted. */
export function planRows(
  cells: readonly Cell[],
  tests: readonly TestName[],
  s: TestSettings,
  primary: Family = 4,
): PlannedRow[] {
  const out: PlannedRow[] = [];
  const countedTest = tests.find((t) => runTests.get(t).tool === 'iperf3');
  for (const cell of cells) {
    for (const test of tests) {
      const t = runTests.get(test);
      if (familyMissing(t.tool, cell.ipFamily ?? primary)) continue;
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
          ipFamily: cell.ipFamily ?? primary,
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
  ipFamilies?: readonly Family[],
): Plan {
  // An architecture, path, test or MTU named twice is measured once.
  const unique = <T>(xs: readonly T[]): T[] => [...new Set(xs)];
  const planned = planCells(topology, unique(archs), unique(paths), features);
  const { skipped } = planned;
  const primary = topology.ipFamilies[0] ?? 4;
  const cells = cellsPerFamily(
    topology,
    cellsPerMtu(planned.cells, mtuDimension(underlayMtus)),
    familyDimension(ipFamilies),
    skipped,
  );
  const runnable = unique(tests).filter((t) => !toolMissing(features, runTests.get(t).tool));
  for (const t of tests.filter((x) => !runnable.includes(x))) {
    const tool = runTests.get(t).tool;
    for (const a of new Set(cells.map((c) => c.arch.name)))
      skipped.push({ arch: a, test: t, reason: `needs ${tool}: ${toolMissing(features, tool)}` });
  }
  for (const t of runnable) {
    const seen = new Set<string>();
    for (const c of cells) {
      const why = familyMissing(runTests.get(t).tool, c.ipFamily ?? primary);
      if (!why || seen.has(c.arch.name)) continue;
      seen.add(c.arch.name);
      skipped.push({ arch: c.arch.name, test: t, ...(c.ipFamily ? { ipFamily: c.ipFamily } : {}), reason: why });
    }
  }
  return { cells, skipped, tests: runnable, rows: planRows(cells, runnable, s, primary) };
}
