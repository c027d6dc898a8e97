/**
 * results.json's `afterRounds['policy-scale']`: what NetworkPolicy costs against the rules in the
 * lab, per design, beside the rows. Issue 33 names it "a top-level policyScale"; every test after
 * the rounds keeps its part under `afterRounds.<name>` (after/test.ts), and so does this one.
 */
import { z } from 'zod';
import { msStatSchema } from '../after/ms-stat';
import { FAMILIES } from '../results-names';

const agentSchema = z.object({
  node: z.string(),
  fillSyncs: z
    .number()
    .int()
    .describe('syncs the agent ran from before the policies were applied until it enforced them all'),
  fillSyncMs: z.number().describe("those syncs' programming time, summed (syncs.jsonl's ms), ms"),
  changeSyncMs: msStatSchema
    .optional()
    .describe("the agent's programming of each timed change (syncs.jsonl's ms); absent when it had none to program"),
});

const ruleSchema = z.object({
  n: z.number().int().min(0).describe('rules: filler policies selecting the server, then the probe policy; 0: none'),
  policies: z.number().int().min(0).describe('policies the test held in the lab (N fillers and the probe; 0 at N = 0)'),
  applyMs: z.number().describe('from sending the policies missing (batches) until every node enforced them, ms'),
  throughput: z
    .object({
      bitsPerSecond: z.number().describe('mean over the blocks'),
      samples: z.array(z.number()).describe('one iperf3 TCP run per block, bit/s, in the order taken'),
    })
    .describe('client to server, one stream'),
  crr: z
    .object({
      perSec: z.number().describe('answered connections per second over every block'),
      samples: z.array(z.number()).describe("each block's connections per second, in the order taken"),
      ok: z.number().int(),
      failed: z.number().int(),
    })
    .describe('connect, request, response, close, one connection at a time, client to server'),
  connect: msStatSchema.describe("those connections' connect time (SYN to established)"),
  realization: msStatSchema
    .optional()
    .describe(
      'from sending one policy that allows the second client (isolated from the server until then) until its first ' +
        'connection established (a fresh connection every 1 ms, or 1% of the wait so far, each on its own); absent at ' +
        'N = 0, where nothing isolates',
    ),
  agents: z.array(agentSchema).describe("each compute node's policy agent (its syncs.jsonl)"),
});

const compactSchema = z
  .object({
    pods: z.array(z.string()),
    probes: z.array(z.string()).describe('"tcp/80", …'),
    marks: z
      .string()
      .describe(
        'one mark a probe, from × to (no pod to itself) × probe: . allowed and X denied as the oracle says; A allowed ' +
          'and D denied where it says otherwise',
      ),
    differences: z.number().int().min(0),
  })
  .describe('a probe matrix (src/policy/matrix.ts, compactMatrix)');

const catalogueSchema = z
  .object({
    differences: z.number().int().min(0).describe('cells where the lab did otherwise than the oracle, every case'),
    cases: z.array(
      z.object({
        name: z.string(),
        about: z.string(),
        differences: z.number().int().min(0),
        matrix: compactSchema,
        afterDelete: compactSchema.optional().describe("the matrix once the case's policies were deleted"),
      }),
    ),
  })
  .describe("correctness first: the policy catalogue's probe matrices against the oracle (docs/policy.md)");

export const policyScaleSchema = z
  .object({
    rules: z.array(z.number().int().min(0)).describe('N: the rules in the lab, ascending'),
    connections: z.number().int().positive().describe('CRR connections per design and N'),
    changes: z.number().int().positive().describe('realization changes timed per design and N ≥ 1'),
    throughputSec: z.number().positive().describe("iperf3's seconds per block"),
    archs: z.array(
      z.object({
        arch: z.string(),
        family: z.enum(FAMILIES),
        lab: z.string().describe('the lab it was measured in'),
        client: z.string().describe('the pod the measured connections came from'),
        server: z.string().describe('the pod every policy selects, on another node than the client'),
        client2: z.string().describe("the realization probe's client"),
        designs: z.array(
          z.object({
            design: z.string().describe('the enforcement design (policyDataplane) of every compute node'),
            catalogue: catalogueSchema.optional(),
            rules: z.array(ruleSchema),
          }),
        ),
      }),
    ),
  })
  .describe(
    'NetworkPolicy at scale: throughput, CRR, connect latency and realization latency with N rules selecting the ' +
      'probed pod, per enforcement design; the probed connection matches the last rule where order matters; not rows',
  );

export type PolicyScaleJson = z.infer<typeof policyScaleSchema>;
export type PolicyScaleArch = PolicyScaleJson['archs'][number];
export type PolicyScaleDesign = PolicyScaleArch['designs'][number];
export type PolicyScaleRule = PolicyScaleDesign['rules'][number];
export type PolicyScaleCatalogue = NonNullable<PolicyScaleDesign['catalogue']>;
