/**
 * results.json's schedule (how the samples were taken, which rows left the rounds) and noise (what
 * the samples saw, the rows' noise groups and priors): parts of the schema in results-schema.ts.
 */
import { z } from 'zod';

export const scheduleSchema = z
  .object({
    mode: z
      .enum(['interleaved', 'sequential'])
      .describe('interleaved: every lab up, rounds across all; sequential: one lab at a time'),
    fallback: z.string().optional().describe('why an interleaved run was measured sequentially'),
    seed: z.number().int().describe("the seed of the rounds' random order: the same seed, the same order"),
    rounds: z.number().int().describe('rounds taken'),
    minRounds: z.number().int(),
    maxRounds: z.number().int().nullable(),
    precisionPct: z
      .number()
      .nullable()
      .describe('adaptive: stop when every ratio is within ± this % (null: fixed rounds)'),
    budgetSec: z.number().nullable().describe('adaptive: no round is started that would end the run after this'),
    stopped: z.enum(['converged', 'budget', 'rounds']).describe('what ended the rounds'),
    pairing: z
      .enum(['round', 'nearest'])
      .describe("a sample's baseline partner: the same round's, or the nearest in time"),
    baseline: z.string(),
    order: z.array(z.array(z.string())).describe('per round, the rows in the order measured (arch path test params)'),
    labs: z
      .record(z.string(), z.string())
      .describe('the lab name of each architecture ("ARCH mtu N" with several underlay MTUs)'),
    held: z
      .array(
        z.object({
          round: z.number().int(),
          rows: z.number().int().describe('rows sampled in the round (the baseline rows they pair with included)'),
          forClaims: z
            .array(z.string())
            .describe('rows within the precision held for an open claim (a paper ordering or a design pair)'),
          cut: z
            .array(z.string())
            .describe('open rows the budget could not hold in this round (the claims’ rows were taken first)'),
        }),
      )
      .optional()
      .describe('adaptive rounds after the minimum: what each round held; absent before v6'),
    left: z
      .array(
        z.object({
          row: z.string(),
          round: z.number().int().describe('the last round that sampled it'),
          why: z
            .enum(['within precision'])
            .describe('its moderated interval was within the precision, and no open claim needed it'),
        }),
      )
      .optional()
      .describe('rows that left the rounds before the run stopped; absent before v6'),
    warnings: z
      .array(z.string())
      .optional()
      .describe('what the run found it could not do as asked, e.g. a precision --max-rounds cannot reach'),
  })
  .describe('how the samples were scheduled');

const spread = z.object({ median: z.number(), max: z.number() });

const priorSchema = z.object({
  spreadPct: z.number().describe('the prior spread of one ratio: (exp(s0) − 1) × 100'),
  df: z.number().describe('its degrees of freedom d0'),
});

export const noiseSchema = z
  .object({
    limits: z
      .object({ stealPct: z.number(), outsidePct: z.number() })
      .describe('a sample above either was taken again'),
    samples: z.number().int(),
    disturbed: z.number().int().describe('samples kept although their second try was disturbed too'),
    retried: z.number().int().describe('samples taken twice'),
    stealPct: spread,
    outsidePct: spread,
    load1Max: z.number(),
    idleLabs: z
      .object({ labs: z.number().int(), cpuPct: z.number(), rssMiB: z.number(), processes: z.number().int() })
      .optional()
      .describe(
        'every lab up and idle, over 1 s: % of all CPUs their ' +
          'processes used, their memory (proportional set size, MiB)',
      ),
    floorPct: z
      .number()
      .describe('the run-to-run noise floor estimated from this run (split halves of its rounds), % of a ratio'),
    unresolved: z.array(z.object({ row: z.string(), covPct: z.number(), halfWidthPct: z.number().nullable() })),
    moderation: z
      .object({
        kappa: z
          .object({ main: z.number(), noisy: z.number() })
          .describe("the run-level share of a row's variance: split-half estimate, never below its floor"),
        groups: z.array(
          z.object({
            group: z.string().describe('the test whose rows were moderated together'),
            rows: z.number().int(),
            prior: priorSchema.nullable().describe('null: fewer than three rows, each keeps its own variance'),
            setApart: z.array(z.string()).describe('rows far noisier than the prior of the others'),
            setApartPrior: priorSchema.nullable(),
          }),
        ),
      })
      .optional()
      .describe("the rows' noise groups and priors (docs/measurements.md); absent before v6"),
  })
  .describe('the noise the run saw, and what it could not resolve');
