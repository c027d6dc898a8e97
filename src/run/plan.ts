/**
 * What a run will measure, decided before any lab is built (pure): the cells (architecture × path)
 * and what is skipped with its reason, then the samples — one entry per sample (or per batch of
 * windows) of every test's row on every cell, in the order the run takes them. The measuring step
 * executes the list as it is ordered, keeping a lab up from its first sample to its last; today's
 * order is lab by lab. (Interleaving architectures needs a lab name per architecture: every lab of
 * a run now takes the topology's name.)
 */
import type { Architecture, PathName } from '../arch/architecture';
import { missingReason, type FeatureReport } from '../doctor/features';
import type { Topology } from '../topology/schema';
import { designedOut, endpointsFor, type Endpoints } from './paths';
import type { Skipped, TestName } from './results-schema';
import { runTests } from './tests';
import type { Params, TestSettings } from './tests/test';

export interface Cell {
  readonly arch: Architecture;
  readonly path: PathName;
  readonly endpoints: Endpoints;
}

/** One entry of the plan: a sample of a test's row on a cell (or, for a batch test, all of the row's samples). */
export interface PlannedSample {
  readonly cell: Cell;
  readonly test: TestName;
  readonly params: Params;
  /** 1 … repeats; a batch has one entry, repeat 1, and yields `repeats` samples. */
  readonly repeat: number;
  readonly batch: boolean;
  /** Around this row, the interfaces' counters (the hops) and the data path's processes are read. */
  readonly counted: boolean;
  /** Seconds planned for it. */
  readonly plannedSec: number;
}

export interface Plan {
  readonly cells: readonly Cell[];
  readonly skipped: Skipped[];
  /** The tests that will run (a test whose tool is missing is skipped). */
  readonly tests: readonly TestName[];
  readonly samples: readonly PlannedSample[];
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
    const missing = missingReason(features, arch.requires);
    if (missing) {
      skipped.push({ arch: arch.name, reason: missing });
      continue;
    }
    for (const path of paths) {
      if (designedOut(arch, path)) continue; // no news: the docs say which architecture has which path
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

/** The samples of `tests` on `cells`, lab by lab: each cell's tests in order, each row's repeats back to back. */
export function planSamples(cells: readonly Cell[], tests: readonly TestName[], s: TestSettings): PlannedSample[] {
  const out: PlannedSample[] = [];
  // The interfaces' counters are read around a cell's first throughput row: the path it took.
  const countedTest = tests.find((t) => runTests.get(t).tool === 'iperf3');
  for (const cell of cells) {
    for (const test of tests) {
      const t = runTests.get(test);
      const batch = 'batch' in t.measure;
      for (const [i, params] of t.params(s).entries()) {
        const counted = test === countedTest && i === 0;
        for (let repeat = 1; repeat <= (batch ? 1 : s.repeats); repeat++)
          out.push({ cell, test, params, repeat, batch, counted, plannedSec: t.plannedSec(s) });
      }
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
): Plan {
  // An architecture, path or test named twice is measured once.
  const unique = <T>(xs: readonly T[]): T[] => [...new Set(xs)];
  const { cells, skipped } = planCells(topology, unique(archs), unique(paths), features);
  const runnable = unique(tests).filter((t) => features[runTests.get(t).tool].ok);
  for (const t of tests.filter((x) => !runnable.includes(x))) {
    const tool = runTests.get(t).tool;
    for (const a of new Set(cells.map((c) => c.arch.name)))
      skipped.push({ arch: a, test: t, reason: `needs ${tool}: ${features[tool].detail}` });
  }
  return { cells, skipped, tests: runnable, samples: planSamples(cells, runnable, s) };
}
