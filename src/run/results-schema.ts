/**
 * results.json, version 8. These zod schemas are the source of truth: this one is what the engine
 * knows (the tests after the rounds' parts are opaque to it); results-published.ts adds each test's
 * part, and `npm run schema` writes the published JSON Schema (schema/results-v8.schema.json) from
 * that, a test keeping the two equal. Compatible changes (new optional fields) keep the version;
 * anything else bumps it. Versions 1 (one TCP test, min/median/max), 2 (every test, lab by lab, no
 * rounds), 3 to 7 stay published beside it; `cnilab compare` reads all eight, the report 3 to 8.
 *
 * Version 8: the Service hop. A fourth path, `service` (the inter-node pods through a ClusterIP);
 * a test, `crr` (TCP connect-request-response-close, metrics `connPerSec`, `connectP50Us`,
 * `connectP99Us`); rows' `proxy`, on the rows of a `--proxy` variant (`<arch>+<mode>`). A v7 file
 * is a v8 file but for its number. Later, compatibly: a test `rtt` (iperf2's TCP round trips, in
 * both IP families; metric `rttMeanUs`) and `environment.iperf2`.
 *
 * Version 7: the tests after the rounds have one place, `afterRounds.<test>` (v3–v6 had `attach`
 * and `join` at the top: they read as `afterRounds.attach` and `afterRounds.join`); the join
 * test's control-plane moments are `details` (named by the control plane; before, `bgp`); a kind's
 * own counters are `meters` of rows and paths (before, the eBPF programs' `ebpf` and `programs`).
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
import { claimsSchema } from './results-claims-schema';
import { FAMILIES, PATH } from './results-names';
import { pathSchema, ratioSchema, rowSchema, sampleNoiseSchema, statSchema } from './results-row-schema';
import { noiseSchema, scheduleSchema } from './results-schedule-schema';
import { proofSchema } from './results-proof-schema';

export const RESULTS_SCHEMA_VERSION = 8;

// Where every reader has found them.
export { DESIGN_METRICS, FAMILIES, METRIC_INFO, METRICS, TESTS, type MetricName, type TestName } from './results-names';
export { rowSchema, statSchema } from './results-row-schema';

export const skippedSchema = z.object({
  arch: z.string(),
  path: PATH.optional().describe('absent when the whole architecture was skipped'),
  test: z
    .string()
    .optional()
    .describe(
      'present when one test was skipped: a row test or a test after the rounds (results-published.ts names them)',
    ),
  ipFamily: z
    .union([z.literal(4), z.literal(6)])
    .optional()
    .describe('present when only one IP family was skipped (the run measured several: --ip-family)'),
  reason: z.string().describe('one line: why'),
  failed: z
    .literal(true)
    .optional()
    .describe(
      'present when the row is an error, not unsupported: it was planned and could run, but failed ' +
        '(the wire proof of its architecture: `proofs`), so it has no figures',
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
        "where the run's time went: labs up, warm-up runs, measured samples, labs down, the rest (server starts, " +
          'counters)',
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
      ipFamilies: z
        .array(z.union([z.literal(4), z.literal(6)]))
        .optional()
        .describe(
          "the pods' IP families: the topology's (dual-stack labs measure the first), or those of --ip-family; " +
            'absent in results before IPv6 (IPv4)',
        ),
      ipFamilyDimension: z
        .literal(true)
        .optional()
        .describe('present when each family was measured in single-stack labs of its own (--ip-family 4,6)'),
      podCidr: z.string(),
      podCidr6: z.string().optional().describe("the pods' IPv6 range, when a family measured is IPv6"),
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
        .array(z.string())
        .describe('the tests measured: row tests, and the tests after the rounds (in `afterRounds`, not in rows)'),
      durationSec: z.number().describe('seconds per throughput sample'),
      latencySec: z.number().describe('seconds per latency sample'),
      warmupSec: z.number().describe('one discarded TCP run per path before its first round'),
      repeats: z.number().int().describe('rounds taken (samples per row)'),
      streams: z.number().int().describe('streams of tcp-parallel'),
      udpRateMbps: z.number().describe('target rate of the udp test'),
      covThresholdPct: z.number().describe('rows whose primary metric varies more are flagged unstable'),
      equivalencePct: z
        .number()
        .optional()
        .describe('the margin of equivalence of comparisons, ± %; ' + 'absent before v6'),
      cpuAffinity: z.string().nullable().describe('client,server CPUs the tools were pinned to; null when not pinned'),
    }),
    environment: z.object({
      kernel: z.string().describe('uname -r'),
      kernelBuild: z
        .string()
        .optional()
        .describe(
          "uname -v: on a distribution's kernel it names the package version (e.g. Debian 6.1.192-3); absent in " +
            'files written before it existed',
        ),
      cpus: z.number().int(),
      cpuModel: z.string(),
      iperf3: z.string(),
      sockperf: z.string(),
      iperf2: z.string().optional().describe('iperf 2 (the rtt test); absent in files written before it existed'),
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
              'what moved the packets: "kernel", "openvswitch netdev (userspace)", "user space: the flannel agent ' +
                '(TUN + UDP socket)", …; a --proxy variant adds its proxy and what that runs on ("; Services: ' +
                'iptables proxy on iptables v1.8.9 (nf_tables)"); absent in files written before it existed',
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
    afterRounds: z
      .record(z.string(), z.unknown())
      .optional()
      .describe('the figures of the tests after the rounds, by test: not rows; present when one ran'),
    proofs: z
      .array(proofSchema)
      .optional()
      .describe(
        'the wire proof of each encrypted architecture, taken once before its rows count, in a sample kept ' +
          'out of the figures; absent when no architecture of the run encrypts (and in files before it existed)',
      ),
  })
  .describe(`cnilab run results, version ${RESULTS_SCHEMA_VERSION}`);

export type RunResults = z.infer<typeof resultsSchema>;
export type ResultRow = z.infer<typeof rowSchema>;
export type PathRecord = z.infer<typeof pathSchema>;
export type Skipped = z.infer<typeof skippedSchema>;
export type { DatapathCost, MeterGroupJson } from './results-datapath-schema';
export type StatJson = z.infer<typeof statSchema>;
export type RatioJson = z.infer<typeof ratioSchema>;
export type SampleNoiseJson = z.infer<typeof sampleNoiseSchema>;
export type Schedule = z.infer<typeof scheduleSchema>;
export type NoiseJson = z.infer<typeof noiseSchema>;
export type Claims = z.infer<typeof claimsSchema>;
