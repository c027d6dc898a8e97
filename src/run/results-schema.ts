/**
 * results.json, version 2. This zod schema is the source of truth; `npm run schema` writes the
 * published JSON Schema (schema/results-v2.schema.json) from it, and a test keeps the two equal.
 * Compatible changes (new optional fields) keep the version; anything else bumps it. Version 1
 * (one TCP test, min/median/max) stays published beside it; `cnilab compare` reads both, the
 * report only version 2.
 */
import { z } from 'zod';

export const RESULTS_SCHEMA_VERSION = 2;

/** The tests' names, as results.json's schema enumerates them (run/tests/ has one module each). */
export const TESTS = ['tcp', 'tcp-parallel', 'udp', 'pps', 'sweep', 'latency', 'latency-loaded'] as const;
export type TestName = (typeof TESTS)[number];

export const METRICS = ['gbps', 'pps', 'lossPct', 'jitterMs', 'rttP50Us', 'rttP90Us', 'rttP99Us', 'rttP999Us'] as const;
export type MetricName = (typeof METRICS)[number];

export const METRIC_INFO: Record<MetricName, { label: string; unit: string; better: 'higher' | 'lower' }> = {
  gbps: { label: 'throughput', unit: 'Gbit/s', better: 'higher' },
  pps: { label: 'packets/s', unit: 'packets/s', better: 'higher' },
  lossPct: { label: 'loss', unit: '%', better: 'lower' },
  jitterMs: { label: 'jitter', unit: 'ms', better: 'lower' },
  rttP50Us: { label: 'RTT p50', unit: 'µs', better: 'lower' },
  rttP90Us: { label: 'RTT p90', unit: 'µs', better: 'lower' },
  rttP99Us: { label: 'RTT p99', unit: 'µs', better: 'lower' },
  rttP999Us: { label: 'RTT p99.9', unit: 'µs', better: 'lower' },
};

const PATH = z.enum(['intra-node', 'inter-node', 'routed']);

export const statSchema = z
  .object({
    n: z.number().int().positive(),
    median: z.number(),
    mean: z.number(),
    min: z.number(),
    max: z.number(),
    sd: z.number().describe('sample standard deviation'),
    covPct: z.number().describe('coefficient of variation, sd / mean, in %'),
    ci95: z
      .object({ low: z.number(), high: z.number(), method: z.enum(['order-statistics', 't', 'none']) })
      .describe(
        "95% confidence interval: of the median by order statistics from 6 samples; below that Student's t on the mean; none for one sample",
      ),
    samples: z.array(z.number()).describe('one value per repeat, in the order measured'),
  })
  .describe('A metric over the repeats');

const cpuSplit = z.object({
  user: z.number().describe('user + nice'),
  system: z.number().describe('kernel, not softirq'),
  softirq: z.number().describe('softirq (where most packet processing runs)'),
  busy: z.number().describe('user + system + softirq + irq + steal'),
});

const datapathCost = z
  .object({
    process: z.string().describe('the process that moves packets in user space, e.g. agent'),
    node: z.string(),
    device: z.string().describe('the device whose kernel counters give the packets, e.g. flannel0'),
    packets: z.number().int().describe('packets the process moved (device tx + rx), over all repeats'),
    cpu: z.object({ user: z.number(), system: z.number() }).describe('% of one core while the client ran'),
    syscallsPerPacket: z
      .number()
      .describe(
        'system calls per device packet as the process counts them: every read, write, send, receive and poll, failed ones (EAGAIN) included',
      ),
    wirePackets: z
      .number()
      .int()
      .optional()
      .describe(
        'packets the process sent and received on the underlay (UDP datagrams), by its own count; with offloads one device packet is a super-packet of many',
      ),
    syscallsPerWirePacket: z
      .number()
      .optional()
      .describe('system calls per packet on the wire: comparable between a per-packet and an offloaded data path'),
    syscallsPerMB: z.number().optional().describe('system calls per megabyte (10^6 bytes) of inner packets moved'),
    procIoSyscallsPerPacket: z
      .number()
      .describe(
        "syscr + syscw of /proc/PID/io per packet: the kernel's count of the read()/write() calls on files (the TUN); socket calls are not in it",
      ),
    contextSwitchesPerPacket: z
      .object({ voluntary: z.number(), involuntary: z.number() })
      .describe("summed over the process's threads, per packet"),
  })
  .describe('The cost of a user-space data-path process on the path, from /proc');

export const rowSchema = z.object({
  arch: z.string().describe('architecture name'),
  family: z
    .enum(['baseline', 'overlay', 'native'])
    .describe(
      'baseline: no pods; overlay: pod packets encapsulated between nodes; native: pod packets travel as they are',
    ),
  path: PATH.describe(
    'intra-node: two pods on one node; inter-node: pods on two nodes (for host: node to node); routed: pods on two networks on two nodes, through a router on a third ("A to C via B")',
  ),
  test: z.enum(TESTS),
  params: z
    .object({
      streams: z.number().int().positive().optional(),
      rateMbps: z.number().nonnegative().optional().describe('UDP target rate; 0 = as fast as the sender can'),
      payloadBytes: z.number().int().positive().optional().describe('UDP payload or sockperf message bytes'),
    })
    .describe('what distinguishes rows of one test'),
  client: z.string().describe('pod (or node) that sent'),
  server: z.string().describe('pod (or node) that received'),
  primary: z.enum(METRICS).describe('the metric that baselinePct, unstable and the charts use'),
  metrics: z.partialRecord(z.enum(METRICS), statSchema),
  retransmits: z.number().int().optional().describe('TCP retransmits, summed over repeats'),
  cpu: cpuSplit
    .optional()
    .describe('host CPU while the client ran, median over repeats, % of all CPUs (100 = every core busy)'),
  coreSecondsPerGbit: cpuSplit
    .omit({ busy: true })
    .extend({ total: z.number() })
    .optional()
    .describe('CPU cost of moving one gigabit: core-seconds per Gbit, host-wide, split like cpu (throughput tests)'),
  baselinePct: z
    .number()
    .nullable()
    .describe(
      "primary metric's median as % of the host row with the same test and params in this run; null without one",
    ),
  unstable: z.boolean().describe("the primary metric's coefficient of variation is above settings.covThresholdPct"),
  datapath: z
    .array(datapathCost)
    .optional()
    .describe('present when user-space processes carry the traffic (flannel-udp across nodes)'),
});

export const hopSchema = z.object({
  stop: z.string().describe('the namespace: pod NAME, node NAME or switch'),
  ifname: z.string(),
  kind: z.string().describe('veth, bridge, vxlan, tun, macvlan, …'),
  mtu: z.number().int(),
  master: z.string().optional().describe('the bridge it is a port of'),
  rxPackets: z.number().int(),
  txPackets: z.number().int(),
  rxBytes: z.number().int(),
  txBytes: z.number().int(),
});

export const pathSchema = z
  .object({
    arch: z.string(),
    path: PATH,
    client: z.string(),
    server: z.string(),
    mtu: z.number().int().describe('MTU of the interface the traffic left from (pod eth0, or node eth0 for host)'),
    encapBytes: z.number().int().describe('bytes each packet gains on the underlay: underlay MTU − pod MTU'),
    measuredWith: z.enum(TESTS).describe('the test during which the counters were read'),
    hops: z
      .array(hopSchema)
      .describe(
        'interfaces whose kernel counters moved during that test, client to server; GSO super-packets count once',
      ),
  })
  .describe("The path traffic took through the namespaces, from the kernel's interface counters");

export const skippedSchema = z.object({
  arch: z.string(),
  path: PATH.optional().describe('absent when the whole architecture was skipped'),
  test: z.enum(TESTS).optional().describe('present when one test was skipped'),
  reason: z.string().describe('one line: why'),
});

export const resultsSchema = z
  .object({
    schemaVersion: z.literal(RESULTS_SCHEMA_VERSION),
    tool: z.object({ name: z.literal('cnilab'), version: z.string() }),
    startedAt: z.string().describe('ISO 8601'),
    finishedAt: z.string(),
    durationSec: z.number(),
    timing: z
      .object({
        setupSec: z.number(),
        warmupSec: z.number(),
        measureSec: z.number(),
        teardownSec: z.number(),
        otherSec: z.number(),
      })
      .describe(
        "where the run's time went: labs up, warm-up runs, measured samples, labs down, the rest (server starts, counters)",
      ),
    lab: z.object({
      name: z.string(),
      nodes: z.number().int(),
      computeNodes: z.number().int(),
      underlayMtu: z.number().int(),
      podCidr: z.string(),
    }),
    settings: z.object({
      tests: z.array(z.enum(TESTS)),
      durationSec: z.number().describe('seconds per throughput sample'),
      latencySec: z.number().describe('seconds per latency sample'),
      warmupSec: z.number().describe('one discarded TCP run per path before its tests'),
      repeats: z.number().int(),
      streams: z.number().int().describe('streams of tcp-parallel'),
      udpRateMbps: z.number().describe('target rate of the udp test'),
      covThresholdPct: z.number().describe('rows whose primary metric varies more are flagged unstable'),
      cpuAffinity: z.string().nullable().describe('client,server CPUs the tools were pinned to; null when not pinned'),
    }),
    environment: z.object({
      kernel: z.string(),
      cpus: z.number().int(),
      cpuModel: z.string(),
      iperf3: z.string(),
      sockperf: z.string(),
      iproute2: z.string(),
      node: z.string(),
    }),
    architectures: z
      .array(
        z.object({
          name: z.string(),
          family: z.enum(['baseline', 'overlay', 'native']),
          summary: z.string(),
          datapath: z
            .string()
            .optional()
            .describe(
              'what moved the packets: "kernel", "openvswitch netdev (userspace)", "user space: the flannel agent (TUN + UDP socket)", …; absent in files written before it existed',
            ),
        }),
      )
      .describe('every architecture measured'),
    rows: z.array(rowSchema),
    paths: z.array(pathSchema),
    skipped: z.array(skippedSchema),
  })
  .describe('cnilab run results, version 2');

export type RunResults = z.infer<typeof resultsSchema>;
export type ResultRow = z.infer<typeof rowSchema>;
export type PathRecord = z.infer<typeof pathSchema>;
export type Skipped = z.infer<typeof skippedSchema>;
export type DatapathCost = z.infer<typeof datapathCost>;
export type StatJson = z.infer<typeof statSchema>;

export function resultsJsonSchema(): Record<string, unknown> {
  return {
    $id: `cnilab/results-v${RESULTS_SCHEMA_VERSION}.schema.json`,
    ...z.toJSONSchema(resultsSchema, { target: 'draft-2020-12' }),
  };
}
