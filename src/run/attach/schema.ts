/** results.json's `afterRounds.attach`: the attach test's figures, beside the rows, never rows. */
import { z } from 'zod';
import { PATHS } from '../../arch/vocabulary';
import { msStatSchema as attachStat } from '../after/ms-stat';
import { FAMILIES } from '../results-names';

export const attachSchema = z
  .object({
    samples: z.number().int().positive().describe('probe pods attached per architecture and lab size'),
    sizes: z
      .array(z.number().int().positive())
      .describe('the lab sizes (pods held, none in flight) each probe went into'),
    archs: z.array(
      z.object({
        arch: z.string(),
        family: z.enum(FAMILIES),
        ipFamily: z
          .union([z.literal(4), z.literal(6)])
          .optional()
          .describe("its pods' IP family, when the run measured several (--ip-family)"),
        lab: z.string().describe('the lab it was measured in'),
        node: z.string().describe('the node every probe pod was attached on'),
        target: z.string().describe('the existing pod each probe pinged after its ADD'),
        path: z.enum(PATHS).describe('the path from the probe to the target'),
        sizes: z.array(
          z.object({
            pods: z.number().int().describe('N: the pods the lab held when each probe was added'),
            fillers: z.number().int().describe("pods added to the topology's to reach N"),
            add: attachStat.describe("CNI ADD through the lab's runtime, as `up` runs it"),
            firstPacket: attachStat.describe(
              'from the start of ADD until the first ping from the new pod to the target was answered (ping -D ' +
                'timestamp; pings 2 ms apart, started when ADD returned)',
            ),
            del: attachStat.describe('CNI DEL of the probe'),
            noise: z
              .object({
                busyPct: z.number().describe('% of all CPU time busy, the probes included (100 = every core)'),
                stealPct: z.number().describe('% of all CPU time a hypervisor stole'),
                outsidePct: z
                  .number()
                  .describe(
                    "% of all CPU time used by processes outside the run's labs that were running at the end " +
                      '(short-lived ones are missed)',
                  ),
                load1: z.number().describe('the 1-minute load average at the end'),
              })
              .optional()
              .describe("while this size's probes ran (every lab's, one after another)"),
          }),
        ),
      }),
    ),
  })
  .describe(
    'pod attach latency: probe pods added to and removed from a running lab through its CNI runtime, one at a ' +
      'time; not rows — no baseline, no % of host',
  );

export type AttachJson = z.infer<typeof attachSchema>;
