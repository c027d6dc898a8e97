/** results.json's `join`: the join test's figures (run/join/) — node-join convergence, beside the rows, never rows. */
import { z } from 'zod';
import { attachStat, FAMILY } from './results-attach-schema';

export const joinSchema = z
  .object({
    samples: z.number().int().positive().describe('nodes joined (and removed again) per architecture'),
    archs: z.array(
      z.object({
        arch: z.string(),
        family: FAMILY,
        lab: z.string().describe('the lab it was measured in'),
        peers: z.number().int().describe('compute nodes already in the lab when each node joined'),
        join: attachStat.describe(
          '`cnilab node add` with one pod, start to end: the node namespace, its control-plane processes, its pod through CNI, and the control plane reporting routes on every peer',
        ),
        converged: attachStat.describe(
          "from the start of node add until the new node's pod answered a ping from a pod on every other node (ping -D timestamps; pings 2 ms apart, started when node add returned)",
        ),
        bgp: z
          .object({
            sessionUp: attachStat.describe(
              "from the start of node add until the last peer's BGP session with the new node was Established (BIRD's `show protocols` time, ms precision)",
            ),
            routeReceived: attachStat.describe(
              "from the start of node add until the last peer had imported the new node's block (BIRD's `show route … all` time)",
            ),
          })
          .optional()
          .describe('architectures whose routes travel by BGP'),
        leave: attachStat.describe(
          '`cnilab node remove`: its processes stopped, the control plane told, its namespaces gone',
        ),
      }),
    ),
  })
  .describe(
    'node-join convergence: a compute node (with one pod) added to a running lab and removed again, one at a time; not rows — no baseline, no % of host',
  );

export type JoinJson = z.infer<typeof joinSchema>;
