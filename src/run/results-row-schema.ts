/** results.json's rows and paths: each row's statistics, ratio and noise; the path its traffic took. */
import { z } from 'zod';
import { datapathCost, meterGroupSchema } from './results-datapath-schema';
import { FAMILIES, METRICS, PATH, TESTS } from './results-names';

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
        "95% confidence interval: of the median by order statistics from 6 samples; below that Student's t on the " +
          'mean; none for one sample',
      ),
    samples: z.array(z.number()).describe('one value per round, in round order'),
  })
  .describe('A metric over the rounds');

const cpuSplit = z.object({
  user: z.number().describe('user + nice'),
  system: z.number().describe('kernel, not softirq'),
  softirq: z.number().describe('softirq (where most packet processing runs)'),
  busy: z.number().describe('user + system + softirq + irq + steal'),
});

export const ratioSchema = z
  .object({
    n: z.number().int().nonnegative(),
    median: z.number().describe('median of the paired ratios'),
    geomean: z.number().describe('geometric mean of the paired ratios'),
    ci95: z
      .object({ low: z.number(), high: z.number() })
      .describe("95% interval of the geometric mean: Student's t on the logarithms of the ratios"),
    halfWidthPct: z.number().nullable().describe('half the interval, % of the geometric mean; null below 2 ratios'),
    ratios: z.array(z.number()).describe('one per round that has both samples, in round order'),
    converged: z.boolean().describe("halfWidthPct (the plain interval's) within schedule.precisionPct"),
    moderated: z
      .object({
        ci95: z.object({ low: z.number(), high: z.number() }),
        halfWidthPct: z.number(),
        df: z.number().describe("degrees of freedom: the prior's plus the row's own"),
        group: z
          .enum(['main', 'noisy', 'plain'])
          .describe(
            "main: its test's prior; noisy: the prior of the rows set apart as far noisier; plain: its own " +
              'variance (set apart with fewer than three such rows)',
          ),
        kappa: z.number().describe("the run-level share of the row's variance added to the interval"),
      })
      .nullable()
      .optional()
      .describe(
        'the interval the report and the claims use: symmetric in log space around geomean, from the moderated ' +
          'variance and the run-level component (docs/measurements.md); null below 2 ratios; absent before v6',
      ),
  })
  .describe(
    "the primary metric divided by the baseline's sample of the same round (schedule.pairing: or the one nearest " +
      'in time)',
  );

export const sampleNoiseSchema = z.object({
  round: z.number().int().positive(),
  startSec: z.number().describe('seconds from the start of measuring'),
  endSec: z.number(),
  stealPct: z.number().describe('% of all CPU time a hypervisor stole during the sample'),
  outsidePct: z.number().describe("% of all CPU time used by processes outside the run's labs (not kernel threads)"),
  top: z.string().optional().describe('the busiest outside process'),
  load1: z.number(),
  disturbed: z.boolean().describe('above noise.limits: it was taken again once (this is the second try when retried)'),
  retried: z.string().optional().describe('present when this is the second try: why the first was not kept'),
});

export const underlayMtu = z
  .number()
  .int()
  .optional()
  .describe(
    'the underlay MTU of the lab it was measured in; present only when the run measured several (--underlay-mtu), ' +
      'else it is lab.underlayMtu',
  );

/** The IP family of a dimension (rows, paths, claims): present only when the run measured several. */
export const ipFamilyDim = z
  .union([z.literal(4), z.literal(6)])
  .optional()
  .describe(
    "the pods' IP family of the lab it was measured in; present only when the run measured several (--ip-family)",
  );

export const rowSchema = z.object({
  arch: z.string().describe('architecture name'),
  family: z
    .enum(FAMILIES)
    .describe(
      'baseline: no pods; overlay: pod packets encapsulated between nodes; native: pod packets travel as they are ' +
        '(over L2 or a bridge); l3: pod packets routed between nodes as they are, no encapsulation and no ' +
        'shared L2 segment (from v5: flannel-host-gw and ipvlan-l3 too)',
    ),
  path: PATH.describe(
    'intra-node: two pods on one node; inter-node: pods on two nodes (for host: node to node); routed: pods on ' +
      'two networks on two nodes, through a router on a third ("A to C via B"); service: the inter-node pods, ' +
      "the client dialling a ClusterIP that the lab's proxy turns into the server pod (v8)",
  ),
  underlayMtu,
  ipFamily: z
    .union([z.literal(4), z.literal(6)])
    .optional()
    .describe(
      "the pods' IP family the row was measured in (the traffic's addresses were checked to be of it); absent in " +
        'results before IPv6 (IPv4)',
    ),
  proxy: z
    .string()
    .optional()
    .describe(
      'the Service proxy on every compute node of its lab (iptables, nftables, ipvs, ebpf; --proxy); its arch is ' +
        'then "<architecture>+<proxy>" (v8)',
    ),
  bigTcp: z
    .literal(true)
    .optional()
    .describe(
      "BIG TCP on the pods' and nodes' devices of its lab (GSO/GRO 196608 bytes, IPv6 and IPv4; --big-tcp on); its " +
        'arch is then "<architecture>+bigtcp"; absent: the kernel\'s 64 KiB',
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
  retransmits: z.number().int().optional().describe('TCP retransmits, summed over the rounds'),
  cpu: cpuSplit
    .optional()
    .describe('host CPU while the client ran, median over the rounds, % of all CPUs (100 = every core busy)'),
  coreSecondsPerGbit: cpuSplit
    .omit({ busy: true })
    .extend({ total: z.number() })
    .optional()
    .describe('CPU cost of moving one gigabit: core-seconds per Gbit, host-wide, split like cpu (throughput tests)'),
  baselinePct: z
    .number()
    .nullable()
    .describe(
      'median of the paired ratios to the host row with the same ' +
        'test and params, in %; null without one (and for host)',
    ),
  ratio: ratioSchema.nullable().describe('paired ratio to the baseline; null for the baseline and rows without one'),
  resolved: z
    .boolean()
    .describe(
      "its ratio's moderated interval (or, without a baseline, that of its own values) is within ± " +
        'schedule.precisionPct (before v6: the plain interval)',
    ),
  rounds: z
    .array(sampleNoiseSchema)
    .describe("per sample, in the order of the metrics' samples: its round, time and noise"),
  unstable: z.boolean().describe("the primary metric's coefficient of variation is above settings.covThresholdPct"),
  datapath: z
    .array(datapathCost)
    .optional()
    .describe('present when user-space processes carry the traffic (flannel-udp across nodes)'),
  meters: z
    .array(meterGroupSchema)
    .optional()
    .describe("present where the architecture's kind counts its own data path (before v7: a field the kind named)"),
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
    underlayMtu,
    ipFamily: ipFamilyDim,
    mtu: z.number().int().describe('MTU of the interface the traffic left from (pod eth0, or node eth0 for host)'),
    encapBytes: z.number().int().describe('bytes each packet gains on the underlay: underlay MTU − pod MTU'),
    measuredWith: z.enum(TESTS).describe('the test during which the counters were read'),
    hops: z
      .array(hopSchema)
      .describe(
        'interfaces whose kernel counters moved during that test, client to server; GSO super-packets count once',
      ),
    meters: z
      .array(meterGroupSchema)
      .optional()
      .describe("the kind's own counters during that test (before v7: the eBPF programs' `programs`)"),
  })
  .describe("The path traffic took through the namespaces, from the kernel's interface counters");
