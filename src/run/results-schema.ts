/**
 * results.json, version 6. This zod schema is the source of truth; `npm run schema` writes the
 * published JSON Schema (schema/results-v5.schema.json) from it, and a test keeps the two equal.
 * Compatible changes (new optional fields) keep the version; anything else bumps it. Versions 1
 * (one TCP test, min/median/max), 2 (every test, lab by lab, no rounds), 3 and 4 stay published
 * beside it; `cnilab compare` reads all six, the report versions 3 to 6.
 *
 * Version 6: answers. Every row's ratio carries its moderated interval (`ratio.moderated`: the
 * variance shrunk toward its test's prior, the run-level component added) and `resolved` is judged
 * by it; comparisons end in `better`, `worse`, `equivalent` (within ±settings.equivalencePct) or
 * `not resolved` (with `moreRounds`), where v3–v5 said `indistinguishable` for the last two (a v5
 * file reads as v6 with `indistinguishable` as `not resolved`); the paper's orderings may be
 * `equivalent`; rows leave the rounds once resolved (`schedule.left`, `schedule.held`); the noise
 * groups and priors are in `noise.moderation`.
 *
 * Version 5: the `l3` family holds every design that forwards pod packets by routes alone —
 * flannel-host-gw and ipvlan-l3 move there from `native`, beside ebpf-native and calico-bgp (a
 * version 4 file is a version 5 file but for its number and those two families); the join test's
 * figures (`join`, `'join'` in `settings.tests`): node-join convergence, not rows.
 *
 * Version 4: a fourth family, `l3` (pure L3 forwarding: no bridge, no encapsulation — the
 * ebpf-native architecture), and the eBPF programs' counters (`ebpf` of rows, `programs` of
 * paths). A version 3 file is a version 4 file but for its number.
 *
 * Version 3: samples are taken in rounds; every row carries its paired ratio to the baseline
 * (`ratio`), each sample's round, time and noise (`rounds`); the run carries its schedule (seed,
 * order), its noise and the claims its intervals support. Later, optional: the underlay MTU as a
 * dimension (`underlayMtu` of rows, paths and claims, `lab.underlayMtus`) and the link emulation
 * that applied (`lab.linkEmulation`); the attach test's figures (`attach`, `'attach'` in
 * `settings.tests` and `skipped[].test`) — not rows: no baseline, no ratio, no claims.
 */
import { z } from 'zod';
import { FAMILIES, PATHS } from '../arch/vocabulary';
import { attachSchema } from './results-attach-schema';
import { joinSchema } from './results-join-schema';
import { datapathCost, programCountersSchema } from './results-datapath-schema';
import { noiseSchema, scheduleSchema } from './results-schedule-schema';

export const RESULTS_SCHEMA_VERSION = 6;

/** The tests' names, as results.json's schema enumerates them (run/tests/ has one module each). */
export const TESTS = ['tcp', 'tcp-parallel', 'udp', 'pps', 'sweep', 'latency', 'latency-loaded'] as const;
export type TestName = (typeof TESTS)[number];

/** The attach test: CNI ADD/DEL into a running lab (run/attach/), measured beside the rows, never as one. */
export const ATTACH_TEST = 'attach';
/** The join test: compute nodes added to and removed from a running lab (run/join/); not rows either. */
export const JOIN_TEST = 'join';
/** Every test `--tests` takes: the row tests, attach and join. */
export const RUN_TESTS = [...TESTS, ATTACH_TEST, JOIN_TEST] as const;
export type RunTestName = (typeof RUN_TESTS)[number];

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

const PATH = z.enum(PATHS);

/** What a comparison of two rows ends in (v3–v5 wrote `indistinguishable` for the last two). */
export const PAIR_VERDICTS = ['better', 'worse', 'equivalent', 'not resolved'] as const;

/** What the designs compared (claims.designs) judge: throughput, latency, CPU per Gbit. */
export const DESIGN_METRICS = ['throughput', 'latency', 'cpuPerGbit'] as const;

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
    samples: z.array(z.number()).describe('one value per round, in round order'),
  })
  .describe('A metric over the rounds');

const cpuSplit = z.object({
  user: z.number().describe('user + nice'),
  system: z.number().describe('kernel, not softirq'),
  softirq: z.number().describe('softirq (where most packet processing runs)'),
  busy: z.number().describe('user + system + softirq + irq + steal'),
});

const ratioSchema = z
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
            "main: its test's prior; noisy: the prior of the rows set apart as far noisier; plain: its own variance (set apart with fewer than three such rows)",
          ),
        kappa: z.number().describe("the run-level share of the row's variance added to the interval"),
      })
      .nullable()
      .optional()
      .describe(
        'the interval the report and the claims use: symmetric in log space around geomean, from the moderated variance and the run-level component (docs/measurements.md); null below 2 ratios; absent before v6',
      ),
  })
  .describe(
    "the primary metric divided by the baseline's sample of the same round (schedule.pairing: or the one nearest in time)",
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

const underlayMtu = z
  .number()
  .int()
  .optional()
  .describe(
    'the underlay MTU of the lab it was measured in; present only when the run measured several (--underlay-mtu), else it is lab.underlayMtu',
  );

export const rowSchema = z.object({
  arch: z.string().describe('architecture name'),
  family: z
    .enum(FAMILIES)
    .describe(
      'baseline: no pods; overlay: pod packets encapsulated between nodes; native: pod packets travel as they are (over L2 or a bridge); l3: pod packets routed between nodes as they are, no encapsulation and no shared L2 segment (from v5: flannel-host-gw and ipvlan-l3 too)',
    ),
  path: PATH.describe(
    'intra-node: two pods on one node; inter-node: pods on two nodes (for host: node to node); routed: pods on two networks on two nodes, through a router on a third ("A to C via B")',
  ),
  underlayMtu,
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
      'median of the paired ratios to the host row with the same test and params, in %; null without one (and for host)',
    ),
  ratio: ratioSchema.nullable().describe('paired ratio to the baseline; null for the baseline and rows without one'),
  resolved: z
    .boolean()
    .describe(
      "its ratio's moderated interval (or, without a baseline, that of its own values) is within ± schedule.precisionPct (before v6: the plain interval)",
    ),
  rounds: z
    .array(sampleNoiseSchema)
    .describe("per sample, in the order of the metrics' samples: its round, time and noise"),
  unstable: z.boolean().describe("the primary metric's coefficient of variation is above settings.covThresholdPct"),
  datapath: z
    .array(datapathCost)
    .optional()
    .describe('present when user-space processes carry the traffic (flannel-udp across nodes)'),
  ebpf: z
    .array(programCountersSchema)
    .optional()
    .describe('present for the ebpf architectures: every program on the nodes of the path that saw packets'),
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
    mtu: z.number().int().describe('MTU of the interface the traffic left from (pod eth0, or node eth0 for host)'),
    encapBytes: z.number().int().describe('bytes each packet gains on the underlay: underlay MTU − pod MTU'),
    measuredWith: z.enum(TESTS).describe('the test during which the counters were read'),
    hops: z
      .array(hopSchema)
      .describe(
        'interfaces whose kernel counters moved during that test, client to server; GSO super-packets count once',
      ),
    programs: z
      .array(programCountersSchema)
      .optional()
      .describe('the ebpf architectures: what their programs did during that test'),
  })
  .describe("The path traffic took through the namespaces, from the kernel's interface counters");

export const skippedSchema = z.object({
  arch: z.string(),
  path: PATH.optional().describe('absent when the whole architecture was skipped'),
  test: z.enum(RUN_TESTS).optional().describe('present when one test was skipped'),
  reason: z.string().describe('one line: why'),
});

const interval = z.object({ low: z.number(), high: z.number() });

const moreRounds = z
  .number()
  .int()
  .nullable()
  .optional()
  .describe('not resolved: about how many more rounds would decide it; null when one run cannot');

const pairClaimSchema = z.object({
  a: z.string(),
  b: z.string(),
  ratio: z.object({
    n: z.number().int(),
    geomean: z.number(),
    ci95: interval.describe('moderated (v6; before: the plain t interval)'),
    plainCi95: interval.optional().describe("Student's t on this pair's own logs"),
  }),
  verdict: z
    .enum(PAIR_VERDICTS)
    .describe(
      'a against b: better or worse when the interval of a/b excludes 1; equivalent when it lies within ±settings.equivalencePct; else not resolved',
    ),
  moreRounds,
});

const claimsSchema = z.object({
  rankings: z.array(
    z.object({
      path: PATH,
      underlayMtu,
      test: z.enum(TESTS),
      params: rowSchema.shape.params,
      order: z.array(z.string()).describe('best first, by the geometric mean'),
      steps: z.array(pairClaimSchema).describe('each neighbour pair of the order'),
    }),
  ),
  paper: z.array(
    z.object({
      figure: z.string(),
      claim: z.string(),
      higher: z.string(),
      lower: z.string(),
      path: PATH,
      underlayMtu,
      test: z.enum(TESTS),
      verdict: z
        .enum(['holds', 'reversed', 'equivalent', 'not resolved', 'not measured'])
        .describe('equivalent: the two within ±settings.equivalencePct, so the ordering does not hold here'),
      ratio: pairClaimSchema.shape.ratio.optional(),
      moreRounds,
    }),
  ),
  designs: z
    .array(
      z.object({
        design: z.string().describe('the design choice the pair isolates'),
        a: z.string(),
        b: z.string(),
        path: PATH,
        underlayMtu,
        metrics: z.array(
          z.object({
            metric: z
              .enum(DESIGN_METRICS)
              .describe('throughput: tcp Gbit/s; latency: latency p50; cpuPerGbit: host core-seconds per Gbit of tcp'),
            test: z.enum(TESTS),
            verdict: z.enum([...PAIR_VERDICTS, 'not measured']).describe('a against b, as the rankings judge'),
            ratio: pairClaimSchema.shape.ratio.optional(),
            moreRounds,
          }),
        ),
      }),
    )
    .optional()
    .describe(
      'pairs of architectures that differ in one design choice (the eBPF data path against each design it replaces; Calico against flannel), where the run measured both; absent from results written before cnilab compared designs',
    ),
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
      underlayMtu: z.number().int().describe("the topology's underlay MTU; with underlayMtus, the first of them"),
      underlayMtus: z
        .array(z.number().int())
        .optional()
        .describe('the underlay MTUs measured, each in labs of its own (--underlay-mtu); absent with one'),
      podCidr: z.string(),
      linkEmulation: z
        .array(
          z.object({
            node: z.string().describe("the link from this node's eth0 to its switch port"),
            rate: z.string().optional().describe('each way, tbf, e.g. 1gbit'),
            delayMs: z.number().optional().describe('one way, each direction of the link, netem'),
            lossPct: z.number().optional().describe('each direction of the link, netem'),
            qdiscs: z.array(z.string()).describe("the qdiscs on both ends' egress"),
          }),
        )
        .optional()
        .describe('the link emulation of the underlay, one entry per emulated link; absent when none'),
    }),
    settings: z.object({
      tests: z
        .array(z.enum(RUN_TESTS))
        .describe("the tests measured; 'attach' is in `attach` and 'join' in `join`, not in rows"),
      durationSec: z.number().describe('seconds per throughput sample'),
      latencySec: z.number().describe('seconds per latency sample'),
      warmupSec: z.number().describe('one discarded TCP run per path before its first round'),
      repeats: z.number().int().describe('rounds taken (samples per row)'),
      streams: z.number().int().describe('streams of tcp-parallel'),
      udpRateMbps: z.number().describe('target rate of the udp test'),
      covThresholdPct: z.number().describe('rows whose primary metric varies more are flagged unstable'),
      equivalencePct: z.number().optional().describe('the margin of equivalence of comparisons, ± %; absent before v6'),
      cpuAffinity: z.string().nullable().describe('client,server CPUs the tools were pinned to; null when not pinned'),
    }),
    environment: z.object({
      kernel: z.string().describe('uname -r'),
      kernelBuild: z
        .string()
        .optional()
        .describe(
          "uname -v: on a distribution's kernel it names the package version (e.g. Debian 6.1.192-3); absent in files written before it existed",
        ),
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
          family: z.enum(FAMILIES),
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
    schedule: scheduleSchema,
    noise: noiseSchema,
    claims: claimsSchema,
    rows: z.array(rowSchema),
    paths: z.array(pathSchema),
    skipped: z.array(skippedSchema),
    attach: attachSchema.optional().describe('present when the attach test ran'),
    join: joinSchema.optional().describe('present when the join test ran'),
  })
  .describe(`cnilab run results, version ${RESULTS_SCHEMA_VERSION}`);

export type RunResults = z.infer<typeof resultsSchema>;
export type ResultRow = z.infer<typeof rowSchema>;
export type PathRecord = z.infer<typeof pathSchema>;
export type Skipped = z.infer<typeof skippedSchema>;
export type { DatapathCost, ProgramCounters } from './results-datapath-schema';
export type StatJson = z.infer<typeof statSchema>;
export type RatioJson = z.infer<typeof ratioSchema>;
export type SampleNoiseJson = z.infer<typeof sampleNoiseSchema>;
export type Schedule = z.infer<typeof scheduleSchema>;
export type NoiseJson = z.infer<typeof noiseSchema>;
export type Claims = z.infer<typeof claimsSchema>;

export function resultsJsonSchema(): Record<string, unknown> {
  return {
    $id: `cnilab/results-v${RESULTS_SCHEMA_VERSION}.schema.json`,
    ...z.toJSONSchema(resultsSchema, { target: 'draft-2020-12' }),
  };
}
export type { AttachJson, AttachStatJson } from './results-attach-schema';
export type { JoinJson } from './results-join-schema';
