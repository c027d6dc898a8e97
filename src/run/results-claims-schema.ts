/** results.json's claims: the rankings, the paper's orderings and the design pairs its intervals support. */
import { z } from 'zod';
import { DESIGN_METRICS, PAIR_VERDICTS, PATH, TESTS } from './results-names';
import { ipFamilyDim, rowSchema, underlayMtu } from './results-row-schema';

const interval = z.object({ low: z.number(), high: z.number() });

const moreRounds = z
  .number()
  .int()
  .nullable()
  .optional()
  .describe('not resolved: about how many more rounds would decide it; null when one run cannot');

const pairClaimSchema = z.object({
  a: z.string(),
  b: z.string(),
  ratio: z.object({
    n: z.number().int(),
    geomean: z.number(),
    ci95: interval.describe('moderated (v6; before: the plain t interval)'),
    plainCi95: interval.optional().describe("Student's t on this pair's own logs"),
  }),
  verdict: z
    .enum(PAIR_VERDICTS)
    .describe(
      'a against b: better or worse when the interval of a/b excludes 1; equivalent when it lies within ' +
        '±settings.equivalencePct; else not resolved',
    ),
  moreRounds,
});

export const claimsSchema = z.object({
  rankings: z.array(
    z.object({
      path: PATH,
      underlayMtu,
      ipFamily: ipFamilyDim,
      test: z.enum(TESTS),
      params: rowSchema.shape.params,
      order: z.array(z.string()).describe('best first, by the geometric mean'),
      steps: z.array(pairClaimSchema).describe('each neighbour pair of the order'),
    }),
  ),
  paper: z.array(
    z.object({
      figure: z.string(),
      claim: z.string(),
      higher: z.string(),
      lower: z.string(),
      path: PATH,
      underlayMtu,
      ipFamily: ipFamilyDim,
      test: z.enum(TESTS),
      verdict: z
        .enum(['holds', 'reversed', 'equivalent', 'not resolved', 'not measured'])
        .describe('equivalent: the two within ±settings.equivalencePct, so the ordering does not hold here'),
      ratio: pairClaimSchema.shape.ratio.optional(),
      moreRounds,
    }),
  ),
  designs: z
    .array(
      z.object({
        design: z.string().describe('the design choice the pair isolates'),
        a: z.string(),
        b: z.string(),
        path: PATH,
        underlayMtu,
        ipFamily: ipFamilyDim,
        metrics: z.array(
          z.object({
            metric: z
              .enum(DESIGN_METRICS)
              .describe('throughput: tcp Gbit/s; latency: latency p50; cpuPerGbit: host core-seconds per Gbit of tcp'),
            test: z.enum(TESTS),
            verdict: z.enum([...PAIR_VERDICTS, 'not measured']).describe('a against b, as the rankings judge'),
            ratio: pairClaimSchema.shape.ratio.optional(),
            moreRounds,
          }),
        ),
      }),
    )
    .optional()
    .describe(
      'pairs of architectures that differ in one design choice (the eBPF data path against each design it ' +
        'replaces; Calico against flannel), where the run measured both; absent from results written before ' +
        'cnilab compared designs',
    ),
  serviceHop: z
    .array(
      z.object({
        arch: z.string().describe('the --proxy variant, <architecture>+<mode>'),
        test: z.enum(TESTS),
        params: rowSchema.shape.params,
        underlayMtu,
        ipFamily: ipFamilyDim,
        verdict: z
          .enum(PAIR_VERDICTS)
          .describe('the service row against the inter-node row of the same lab: worse = the hop costs'),
        ratio: pairClaimSchema.shape.ratio,
        moreRounds,
      }),
    )
    .optional()
    .describe(
      'what the Service hop costs (v8): in each lab with a proxy, each service row over the same pods talking ' +
        'directly (its inter-node row), the same-round ratio; present when the run measured both paths',
    ),
  families: z
    .array(
      z.object({
        arch: z.string(),
        path: PATH,
        test: z.enum(TESTS),
        params: rowSchema.shape.params,
        underlayMtu,
        verdict: z.enum(PAIR_VERDICTS).describe('the IPv6 row against its IPv4 twin: worse = IPv6 costs'),
        ratio: pairClaimSchema.shape.ratio.describe('same-round IPv6 / IPv4 of the primary metric'),
        moreRounds,
      }),
    )
    .optional()
    .describe(
      'what IPv6 costs: each IPv6 row over its IPv4 twin (same architecture, path, test, in labs of either ' +
        'family, round by round); present when the run measured both families (--ip-family 4,6)',
    ),
});
