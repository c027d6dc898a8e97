/** Every test after the rounds, by name, in the order a run measures them: one module each (test.ts). */
import { CnilabError } from '../../lib/errors';
import { Registry } from '../../lib/registry';
import { attachTest } from '../attach';
import { joinTest } from '../join';
import { mtuTest } from '../mtu';
import { policyScaleTest } from '../policy-scale';
import { serviceScaleTest } from '../service-scale';
import type { AnyAfterTest } from './test';

export const afterTests = new Registry<AnyAfterTest>('test after the rounds', 'INVALID_INPUT');
for (const t of [attachTest, joinTest, serviceScaleTest, policyScaleTest, mtuTest]) afterTests.register(t.name, t);

/** The tests after the rounds, in their order. */
export const allAfterTests = (): AnyAfterTest[] => afterTests.names().map((n) => afterTests.get(n));

/**
 * The settings of each test after the rounds that `tests` names, from its flags' values (`flags`,
 * over `scenario`'s). A flag of a test not named is an error naming the flag and the fix.
 */
export function afterSettings(
  tests: readonly string[],
  flags: Readonly<Record<string, unknown>>,
  scenario: Readonly<Record<string, unknown>> = {},
): Map<string, unknown> {
  const out = new Map<string, unknown>();
  for (const t of allAfterTests()) {
    const given = Object.fromEntries(t.flags.map((f) => [f.key, flags[f.key] ?? scenario[f.key]]));
    if (tests.includes(t.name)) {
      out.set(t.name, t.settings(given));
      continue;
    }
    const set = t.flags.find((f) => given[f.key] !== undefined);
    if (set)
      throw new CnilabError(
        'INVALID_INPUT',
        `${set.flag.split(' ')[0]}: only with the ${t.name} test; add it: --tests ${[...tests, t.name].join(',')}`,
      );
  }
  return out;
}

/** The tests after the rounds whose part results.json holds, in the registry's order, each with its part. */
export function afterParts(r: { readonly afterRounds?: Readonly<Record<string, unknown>> }): {
  test: AnyAfterTest;
  part: unknown;
}[] {
  return allAfterTests()
    .filter((t) => r.afterRounds?.[t.name] !== undefined)
    .map((test) => ({ test, part: r.afterRounds![test.name] }));
}
