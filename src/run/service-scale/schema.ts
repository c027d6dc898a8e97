/** results.json's `afterRounds['service-scale']`: the Service hop against the Services in the lab, beside the rows. */
import { z } from 'zod';
import { msStatSchema } from '../after/ms-stat';
import { FAMILIES } from '../results-names';

const agentSchema = z.object({
  node: z.string(),
  syncs: z
    .number()
    .int()
    .describe('syncs the agent ran from before the fillers were created until it had programmed them all'),
  kinds: z.array(z.enum(['full', 'partial'])).describe('the kind of each of those syncs, in order'),
  syncMs: z.number().describe("those syncs' programming time, summed (syncs.jsonl's ms), ms"),
  lastSyncMs: z.number().describe('the last of them (the one that programmed revision holding all N), ms'),
  rssKiB: z
    .number()
    .int()
    .optional()
    .describe("the agent process's resident memory (VmRSS) at N; the kernel's rule memory is not in it"),
});

export const serviceScaleSchema = z
  .object({
    counts: z.array(z.number().int().positive()).describe('N: the Services in the lab, the probed one included'),
    connections: z
      .number()
      .int()
      .positive()
      .describe('fresh connections per lab and N for first-packet latency, and as many again for the rate'),
    changes: z.number().int().positive().describe('endpoint changes timed per lab and N'),
    archs: z.array(
      z.object({
        arch: z.string(),
        family: z.enum(FAMILIES),
        proxy: z.string().describe('the proxy mode of every compute node'),
        lab: z.string().describe('the lab it was measured in'),
        client: z.string().describe('the pod every connection came from'),
        backends: z.array(z.string()).describe("the probed Service's two backends, on another node than the client"),
        counts: z.array(
          z.object({
            n: z.number().int().positive().describe('Services in the lab (N − 1 fillers, then the probed one)'),
            fillers: z.number().int().describe('Services the test created beside the probed one'),
            createMs: z.number().describe('creating the fillers and the probed Service through the API (batches)'),
            syncedMs: z
              .number()
              .describe('from the first create until every proxy agent had programmed the revision holding them'),
            firstPacket: msStatSchema.describe(
              'connect time of fresh TCP connections to the probed ClusterIP, one at a time (SYN to established: ' +
                "the first packet's round trip through the proxy's NAT)",
            ),
            failed: z.number().int().describe('of those connections, not answered (refused, timed out, reset)'),
            crr: z
              .object({
                perSec: z.number().describe('answered connections per second'),
                concurrency: z.number().int(),
                ok: z.number().int(),
                failed: z.number().int(),
              })
              .describe('connect, request, response, close against the probed Service, a few in flight'),
            programming: msStatSchema.describe(
              "from the API change (a pod labelled into the probed Service's selector) until the first " +
                'connection answered by that pod (connections 1 ms apart, or 1% of the wait so far when more)',
            ),
            agents: z.array(agentSchema).describe("each compute node's proxy agent (syncs.jsonl, /proc)"),
          }),
        ),
      }),
    ),
  })
  .describe(
    'the Service hop at scale: first-packet latency, connection rate and programming latency of one ClusterIP ' +
      "with N Services in the lab, per proxy; the probed Service's rules last where order matters; not rows",
  );

export type ServiceScaleJson = z.infer<typeof serviceScaleSchema>;
export type ServiceScaleArch = ServiceScaleJson['archs'][number];
