/** results.json's `afterRounds.mtu`: per architecture and underlay MTU, what the pods' path carries with DF set. */
import { z } from 'zod';
import { FAMILIES } from '../results-names';

const outcome = z.enum(['reply', 'emsgsize', 'frag-needed', 'other', 'silent']);

export const mtuArchSchema = z.object({
  arch: z.string(),
  family: z.enum(FAMILIES),
  encryption: z.string().nullable().describe('its encryption design (e.g. wireguard), null when it does not encrypt'),
  lab: z.string().describe('the lab it was measured in'),
  underlayMtu: z.number().int().describe("the MTU of its lab's underlay (the nodes' eth0 and the switch)"),
  client: z.string().describe('the pod the probes left from'),
  server: z.string().describe('the pod they went to, on another compute node'),
  podMtu: z.number().int().describe("the MTU of the client pod's eth0, read in its namespace"),
  largestPayload: z
    .number()
    .int()
    .describe('the largest ICMP echo payload (ping -s) that crossed with DF set and was answered'),
  largestPacket: z.number().int().describe('the IP packet of that payload: payload + 28 (IPv4 and ICMP headers)'),
  overhead: z.number().int().describe('underlayMtu − largestPacket: what the path takes for itself (bytes)'),
  above: z
    .object({
      outcome: outcome.describe(
        'what a packet 1 byte larger met: emsgsize (the sender refused it), frag-needed (an ICMP came back), other ' +
          '(another ICMP error), silent (nothing: a black hole)',
      ),
      mode: z
        .enum(['loud', 'silent'])
        .nullable()
        .describe('loud: the sender learns; silent: it never does; null: other'),
      reportedMtu: z.number().int().nullable().describe('the MTU the refusal or the ICMP named, when it named one'),
      from: z.string().nullable().describe('who sent the ICMP frag-needed (its address)'),
      line: z.string().nullable().describe("ping's line for another ICMP error"),
    })
    .describe('one byte more than the path carries'),
  probes: z.number().int().describe('pings sent by the search (the reachability check aside)'),
  sec: z.number().describe('seconds the probe took in this lab'),
});

export const mtuSchema = z
  .object({
    archs: z.array(mtuArchSchema),
  })
  .describe(
    'MTU, measured: the pod MTU each architecture sets, the largest pod packet that crosses between nodes with DF ' +
      'set (ICMP echo), and how one byte more fails — loudly (EMSGSIZE, ICMP frag-needed) or silently (a black ' +
      'hole); per underlay MTU. Not rows: no baseline, no % of host',
  );

export type MtuJson = z.infer<typeof mtuSchema>;
export type MtuFigures = MtuJson['archs'][number];
