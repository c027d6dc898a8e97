/** The run's side of the tests after the rounds: each named test planned, and its part of results.json. */
import type { Skipped } from '../results-schema';
import { allAfterTests } from '.';
import type { AfterCell, AfterPlanContext, AnyAfterTest } from './test';

/** A test after the rounds, planned: its labs, what it skips, its settings checked. */
export interface AfterPlanned {
  readonly test: AnyAfterTest;
  readonly cells: readonly AfterCell[];
  readonly skipped: readonly Skipped[];
  readonly settings: unknown;
}

/** The tests after the rounds `settings` names (by test), planned, in the registry's order. */
export function planAfter(settings: ReadonlyMap<string, unknown>, ctx: AfterPlanContext): AfterPlanned[] {
  return allAfterTests()
    .filter((t) => settings.has(t.name))
    .map((test) => ({ test, ...test.plan(ctx, settings.get(test.name)) }));
}

/** results.json's `afterRounds`: the part of each test that ran, from its figures; undefined when none ran. */
export function afterRoundsRecord(
  planned: readonly AfterPlanned[],
  figures: ReadonlyMap<string, unknown[]>,
): Record<string, unknown> | undefined {
  const ran = planned.filter((a) => figures.has(a.test.name));
  return ran.length
    ? Object.fromEntries(ran.map((a) => [a.test.name, a.test.record(a.settings, figures.get(a.test.name)!)]))
    : undefined;
}
