/**
 * The contract of a test after the rounds: measured once the rounds are done, in the labs still up
 * (or, one lab at a time, in each before it goes), never as rows — no baseline, no ratio, no
 * claims. Attach and join are two; the next (a Service hop, policy, encryption) is one module
 * implementing this and one line in index.ts. The run, results.json, the CLI, the report and
 * `compare` only ever iterate the registry: a test brings its plan, its planned seconds, its
 * measurement, its part of results.json (under `afterRounds.<name>`), its flags, its report
 * section and what `compare` says of it.
 */
import type { z } from 'zod';
import { refuseFamilies, type Architecture } from '../../arch/architecture';
import type { Family } from '../../lib/ip';
import { missingReason, type FeatureReport } from '../../doctor/features';
import type { LabState } from '../../lab/state';
import type { Chart } from '../../report/charts';
import type { Topology } from '../../topology/schema';
import { labKey } from '../plan';
import type { Skipped } from '../results-schema';

/** A lab a test after the rounds runs in: its architecture, its key among the run's labs. */
export interface AfterCell {
  readonly arch: Architecture;
  readonly lab: string;
  /** The underlay MTU of its lab when the MTU is a dimension of the run. */
  readonly mtu?: number;
  /** The IP family of its lab when the family is a dimension of the run. */
  readonly ipFamily?: Family;
}

/** One of its flags, which a scenario file may set too (`key`, as the flag in camelCase). */
export interface AfterFlag {
  /** As commander takes it, e.g. '--attach-sizes <n,m>'. */
  readonly flag: string;
  readonly key: string;
  /** Its help line, its default in it. */
  readonly help: string;
  /** The command line's value, checked (INVALID_INPUT naming the flag). */
  readonly parse: (v: string) => unknown;
  /** The scenario file's field. */
  readonly scenario: z.ZodType;
}

export interface AfterPlanContext {
  readonly topology: Topology;
  readonly archs: readonly Architecture[];
  readonly features: FeatureReport;
  /** The first underlay MTU when the MTU is a dimension: its labs are the ones measured. */
  readonly mtu?: number;
  /** Every underlay MTU when the MTU is a dimension: a test that measures per MTU has a lab in each. */
  readonly mtus?: readonly number[];
  /**
   * Every IP family when the family is a dimension (--ip-family): a test that measures per family has a lab in each;
   * the others run in the lab of the first family an architecture has.
   */
  readonly ipFamilies?: readonly Family[];
}

export interface AfterMeasureOptions {
  readonly seed: number;
  /** The inodes of the labs' namespaces now: what noise readings leave out. */
  readonly labNetns: () => ReadonlySet<number>;
  readonly signal?: AbortSignal;
  readonly progress: (step: string) => void;
}

/** Its section of the report and of the terminal's summary. */
export interface AfterReport<J> {
  /** The report's section: a heading with id `name`, what was done, a table. */
  html(j: J): string;
  /** The terminal's lines. */
  lines(j: J): string[];
  /** One headline of the report, linking to its section; undefined when there is nothing to say. */
  headline(j: J): string | undefined;
  /** Its charts, architectures in `order`. */
  charts?(j: J, order: readonly string[]): Chart[];
}

/**
 * S: its settings; C: a lab it runs in; E: its figures of one architecture; J: its part of
 * results.json.
 */
export interface AfterTest<S, C extends AfterCell, E, J> {
  readonly name: string;
  /** One line for `--help` and the report's list of tests. */
  readonly summary: string;
  readonly schema: z.ZodType<J>;
  readonly flags: readonly AfterFlag[];
  /** Its settings from its flags' values (a flag over the scenario's; undefined where neither says). */
  settings(given: Readonly<Record<string, unknown>>): S;
  /** Its labs, and the architectures it skips with why; its settings checked against the topology. */
  plan(ctx: AfterPlanContext, s: S): { cells: C[]; skipped: Skipped[]; settings: S };
  /** Seconds planned for it in these labs (the ETA, the budget). */
  plannedSec(cells: readonly C[], s: S): number;
  /** Measures it in these labs, all up; leaves each lab holding what it held before. */
  measure(labs: readonly { readonly cell: C; readonly state: LabState }[], s: S, o: AfterMeasureOptions): Promise<E[]>;
  /** Its part of results.json from the figures of every lab. */
  record(s: S, figures: readonly E[]): J;
  readonly report: AfterReport<J>;
  /** What `cnilab compare` says when either run has it. */
  readonly compareNote: string;
  /** Before results v7 it was the top-level field `key`; `upgrade` turns an old one into J. */
  readonly legacy?: { readonly key: string; readonly upgrade?: (old: unknown) => unknown };
}

/** A test of the registry: its types erased — it is only ever handed back what it produced. */
export type AnyAfterTest = AfterTest<unknown, AfterCell, unknown, unknown>;

export const erase = <S, C extends AfterCell, E, J>(t: AfterTest<S, C, E, J>): AnyAfterTest =>
  t as unknown as AnyAfterTest;

/**
 * Whether a test may run on `arch`: it attaches pods (not the baseline) and its features are
 * present — of the others the run says why elsewhere.
 */
export const measurable = (ctx: AfterPlanContext, arch: Architecture): boolean =>
  arch.control.attachesPods &&
  !missingReason(ctx.features, arch.requires) &&
  (ctx.ipFamilies ?? ctx.topology.ipFamilies).some((f) => !refuseFamilies(arch, [f]));

/**
 * The cell of `arch` in the run's labs: the first MTU's lab when the MTU is a dimension (or `at.mtu`'s), the first
 * family's it has when the family is one (or `at.ipFamily`'s).
 */
export function cellOf(
  arch: Architecture,
  ctx: Pick<AfterPlanContext, 'mtu' | 'ipFamilies'>,
  at: { readonly mtu?: number | undefined; readonly ipFamily?: Family } = {},
): AfterCell {
  const mtu = 'mtu' in at ? at.mtu : ctx.mtu;
  const ipFamily = at.ipFamily ?? ctx.ipFamilies?.find((f) => !refuseFamilies(arch, [f]));
  const dims = { ...(mtu === undefined ? {} : { mtu }), ...(ipFamily === undefined ? {} : { ipFamily }) };
  return { arch, lab: labKey({ arch, ...dims }), ...dims };
}
