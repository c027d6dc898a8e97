/**
 * results.json as published (schema/results-v8.schema.json): the engine's schema (results-schema.ts)
 * with each test after the rounds' part in `afterRounds`, and the tests' names where the engine
 * takes any string. What `readResults` validates with.
 */
import { z } from 'zod';
import { allAfterTests } from './after';
import { RESULTS_SCHEMA_VERSION, resultsSchema, skippedSchema, TESTS } from './results-schema';

const tests = () => z.enum([...TESTS, ...allAfterTests().map((t) => t.name)] as [string, ...string[]]);

export const publishedResultsSchema = resultsSchema.extend({
  settings: resultsSchema.shape.settings.extend({
    tests: z
      .array(tests())
      .describe('the tests measured: row tests, and the tests after the rounds (in `afterRounds`, not in rows)'),
  }),
  skipped: z.array(skippedSchema.extend({ test: tests().optional().describe('present when one test was skipped') })),
  afterRounds: z
    .strictObject(
      Object.fromEntries(
        allAfterTests().map((t) => [t.name, t.schema.optional().describe(`present when the ${t.name} test ran`)]),
      ),
    )
    .optional()
    .describe('the figures of the tests after the rounds, by test: not rows — no baseline, no ratio, no claims'),
});

export function resultsJsonSchema(): Record<string, unknown> {
  return {
    $id: `cnilab/results-v${RESULTS_SCHEMA_VERSION}.schema.json`,
    ...z.toJSONSchema(publishedResultsSchema, { target: 'draft-2020-12' }),
  };
}
