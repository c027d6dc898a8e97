/**
 * results.json's `afterRounds.join`: the join test's figures — node-join convergence, beside the rows, never rows.
 */
import { z } from 'zod';
import { msStatSchema as attachStat } from '../after/ms-stat';
import { FAMILIES } from '../results-names';

/** The moments a control plane records of a node joining (Membership.details), timed from node add. */
const detailSchema = z.object({
  key: z.string().describe('camelCase, e.g. bgpSessionUp'),
  label: z.string().describe("the report's column, e.g. BGP session up"),
  about: z.string().describe('what the moment is'),
  ms: attachStat.describe('from the start of node add until that moment'),
});

export const joinSchema = z
  .object({
    samples: z.number().int().positive().describe('nodes joined (and removed again) per architecture'),
    archs: z.array(
      z.object({
        arch: z.string(),
        family: z.enum(FAMILIES),
        lab: z.string().describe('the lab it was measured in'),
        peers: z.number().int().describe('compute nodes already in the lab when each node joined'),
        join: attachStat.describe(
          '`cnilab node add` with one pod, start to end: the node namespace, its control-plane processes, its pod ' +
            'through CNI, and the control plane reporting routes on every peer',
        ),
        converged: attachStat.describe(
          "from the start of node add until the new node's pod answered a ping from a pod on every other node " +
            '(ping -D timestamps; pings 2 ms apart, started when node add returned)',
        ),
        details: z
          .array(detailSchema)
          .optional()
          .describe(
            "the control plane's own moments of each join, where it records them (a BGP speaker's session and " +
              'route times, say; before v7 the field `bgp`)',
          ),
        leave: attachStat.describe(
          '`cnilab node remove`: its processes stopped, the control plane told, its namespaces gone',
        ),
      }),
    ),
  })
  .describe(
    'node-join convergence: a compute node (with one pod) added to a running lab and removed again, one at a ' +
      'time; not rows — no baseline, no % of host',
  );

export type JoinJson = z.infer<typeof joinSchema>;

/** Before v7 a join's BGP times were the field `bgp`: they read as its details. */
export function upgradeJoin(old: unknown): unknown {
  const j = structuredClone(old) as { archs?: Record<string, unknown>[] };
  for (const a of j.archs ?? []) {
    const bgp = a['bgp'] as { sessionUp: unknown; routeReceived: unknown } | undefined;
    delete a['bgp'];
    if (bgp)
      a['details'] = [
        {
          key: 'bgpSessionUp',
          label: 'BGP session up',
          about:
            "the last peer's BGP session with the new node Established (BIRD's `show protocols` time, ms precision)",
          ms: bgp.sessionUp,
        },
        {
          key: 'bgpRouteReceived',
          label: 'BGP route received',
          about: "the last peer had imported the new node's block (BIRD's `show route … all` time)",
          ms: bgp.routeReceived,
        },
      ];
  }
  return j;
}
