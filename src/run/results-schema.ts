/**
 * results.json, version 1. This zod schema is the source of truth; `npm run schema` writes the
 * published JSON Schema (schema/results-v1.schema.json) from it, and a test keeps the two equal.
 * Compatible changes (new optional fields) keep version 1; anything else bumps it.
 */
import { z } from 'zod';

export const RESULTS_SCHEMA_VERSION = 1;

const cpu = z
  .object({
    user: z.number().describe('user + nice, % of all CPUs'),
    system: z.number().describe('kernel (not softirq), % of all CPUs'),
    softirq: z.number().describe('softirq (where most packet processing runs), % of all CPUs'),
    busy: z.number().describe('user + system + softirq + irq + steal, % of all CPUs'),
  })
  .describe('Host CPU while the client ran, median over repeats; 100 = every core busy');

const datapathCost = z
  .object({
    process: z.string().describe('the process that moves packets in user space, e.g. agent'),
    node: z.string(),
    device: z.string().describe('the device whose kernel counters give the packets, e.g. flannel0'),
    packets: z.number().int().describe('packets the process moved (device tx + rx), over all repeats'),
    cpu: z.object({ user: z.number(), system: z.number() }).describe('% of one core while the client ran'),
    syscallsPerPacket: z.number().describe('system calls per device packet as the process counts them: every read, write, send, receive and poll, failed ones (EAGAIN) included'),
    wirePackets: z.number().int().optional().describe('packets the process sent and received on the underlay (UDP datagrams), by its own count; with offloads one device packet is a super-packet of many'),
    syscallsPerWirePacket: z.number().optional().describe('system calls per packet on the wire: comparable between a per-packet and an offloaded data path'),
    syscallsPerMB: z.number().optional().describe('system calls per megabyte (10^6 bytes) of inner packets moved'),
    procIoSyscallsPerPacket: z.number().describe('syscr + syscw of /proc/PID/io per packet: the kernel\'s count of the read()/write() calls on files (the TUN); socket calls are not in it'),
    contextSwitchesPerPacket: z.object({ voluntary: z.number(), involuntary: z.number() }).describe('summed over the process\'s threads, per packet'),
  })
  .describe('The cost of a user-space data-path process on the path, from /proc');

export const rowSchema = z.object({
  arch: z.string().describe('architecture name'),
  path: z.enum(['intra-node', 'inter-node']).describe('intra-node: two pods on one node; inter-node: pods on two nodes (for host: node to node)'),
  test: z.literal('tcp').describe('the traffic test'),
  streams: z.number().int().positive(),
  client: z.string().describe('pod (or node) that sent'),
  server: z.string().describe('pod (or node) that received'),
  gbps: z
    .object({ median: z.number(), min: z.number(), max: z.number(), samples: z.array(z.number()) })
    .describe('receiver goodput in Gbit/s, one sample per repeat'),
  retransmits: z.number().int().describe('TCP retransmits, summed over repeats'),
  mtu: z.number().int().describe('MTU of the interface the traffic left from (pod eth0, or node eth0 for host)'),
  cpu,
  gbpsPerBusyCore: z.number().optional().describe('median Gbit/s divided by the CPU cores busy while it ran (host-wide): throughput per unit of CPU'),
  baselinePct: z.number().nullable().describe('median as % of the host row of the same run; null without a host row'),
  datapath: z.array(datapathCost).optional().describe('present when user-space processes carry the traffic (flannel-udp across nodes)'),
});

export const skippedSchema = z.object({
  arch: z.string(),
  path: z.enum(['intra-node', 'inter-node']).optional().describe('absent when the whole architecture was skipped'),
  reason: z.string().describe('one line: why'),
});

export const resultsSchema = z
  .object({
    schemaVersion: z.literal(RESULTS_SCHEMA_VERSION),
    tool: z.object({ name: z.literal('cnilab'), version: z.string() }),
    startedAt: z.string().describe('ISO 8601'),
    finishedAt: z.string(),
    durationSec: z.number(),
    lab: z.object({ name: z.string(), nodes: z.number().int(), computeNodes: z.number().int(), underlayMtu: z.number().int(), podCidr: z.string() }),
    settings: z.object({ durationSec: z.number(), warmupSec: z.number().describe('measured by iperf3 and discarded'), repeats: z.number().int() }),
    environment: z.object({ kernel: z.string(), cpus: z.number().int(), cpuModel: z.string(), iperf3: z.string(), iproute2: z.string(), node: z.string() }),
    rows: z.array(rowSchema),
    skipped: z.array(skippedSchema),
  })
  .describe('cnilab run results, version 1');

export type RunResults = z.infer<typeof resultsSchema>;
export type ResultRow = z.infer<typeof rowSchema>;
export type Skipped = z.infer<typeof skippedSchema>;
export type DatapathCost = z.infer<typeof datapathCost>;

export function resultsJsonSchema(): Record<string, unknown> {
  return { $id: 'cnilab/results-v1.schema.json', ...z.toJSONSchema(resultsSchema, { target: 'draft-2020-12' }) };
}
