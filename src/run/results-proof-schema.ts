/**
 * results.json's `proofs`: the wire proof of each encrypted architecture's lab (lab/wire-proof.ts),
 * taken once before its rows count, in a sample kept out of the figures. Absent in files written
 * before it existed, and in runs without an encrypted architecture.
 */
import { z } from 'zod';

const count = z.number().int().nonnegative();
const end = z.object({ pod: z.string(), node: z.string(), ip: z.string(), underlayIp: z.string() });

export const proofSchema = z.object({
  arch: z.string(),
  underlayMtu: z.number().int().optional().describe('present when the underlay MTU is a dimension of the run'),
  design: z.string().describe('the encryption design, e.g. "wireguard", "ipsec"'),
  wire: z.string().describe('what the design puts between nodes: "udp/<port>" or "esp"'),
  ok: z.boolean().describe("true: proven encrypted on the wire; false: the architecture's rows are errors"),
  failures: z.array(z.string()).describe('why it failed, one line each; empty when ok'),
  packets: count.describe('frames captured on the switch'),
  designPackets: count.describe("frames of the design's wire between the two nodes' underlay addresses (> 0)"),
  markers: count.describe('frames holding the marker sent pod to pod: plaintext seen (must be 0)'),
  podAddressed: count.describe('frames whose own IPv4 header carries a pod address (must be 0)'),
  betweenNodes: z.record(z.string(), count).describe("frames between the two nodes' underlay addresses, by kind"),
  controlPlane: z
    .record(z.string(), count)
    .describe('control-plane frames in the clear as in real clusters (BGP, the controller API): not failures'),
  dropped: count.optional().describe('packets the capture lost (tcpdump: dropped by kernel)'),
  sample: z.string().optional().describe('the traffic sample taken in the capture window, e.g. "tcp 1 s inter-node"'),
  from: end.optional(),
  to: end.optional(),
});

export type ProofRecord = z.infer<typeof proofSchema>;
