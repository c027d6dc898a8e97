/** A scenario file: what `cnilab run SCENARIO.yaml` measures. Command-line flags override it. */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ipFamiliesSchema } from '../topology/families';
import { CnilabError, messageOf } from '../lib/errors';
import { PATHS } from '../arch/vocabulary';
import { linkSchema } from '../topology/link';
import { MTU_MAX, MTU_MIN } from '../topology/schema';
import { allAfterTests } from './after';
import { TESTS } from './results-schema';

export const scenarioSchema = z.strictObject({
  /** Topology file, relative to the scenario file. Default: the built-in default topology. */
  topology: z.string().optional(),
  /**
   * The NetworkPolicy design of the kinds that offer it (docs/policy.md): iptables or nftables for
   * calico-*, ebpf for ebpf-*, none for no policy agent; over the topology's. Default: each kind's first.
   */
  policyDataplane: z
    .string()
    .regex(/^[a-z][a-z0-9-]{0,31}$/, 'must be a policy design name, like nftables')
    .optional(),
  /** Link emulation of every underlay link (rate, delay, loss), over the topology's topology.underlay fields. */
  underlay: linkSchema.optional(),
  /**
   * Underlay MTUs to measure, each in labs of its own (two or more: a dimension of the run). Default: the topology's.
   */
  underlayMtu: z.array(z.number().int().min(MTU_MIN).max(MTU_MAX)).min(1).optional(),
  /**
   * IP families to measure, each in single-stack labs of its own (two: a dimension of the run, rows side by side).
   * Default: the topology's first.
   */
  ipFamily: ipFamiliesSchema.unwrap().optional(),
  archs: z.array(z.string()).min(1).optional(),
  /**
   * Service proxy modes (iptables, nftables, ipvs, ebpf, or none): each architecture with pods in labs of its own per
   * mode, named <arch>+<mode> (docs/services.md). Default: none.
   */
  proxy: z.array(z.string()).min(1).optional(),
  /**
   * BIG TCP (docs/big-tcp.md): true measures each architecture it is an option of with it (<arch>+bigtcp), false
   * without, [false, true] both side by side in labs of their own (as --big-tcp off,on). Default: false.
   */
  bigTcp: z.union([z.boolean(), z.array(z.boolean()).min(1)]).optional(),
  paths: z.array(z.enum(PATHS)).min(1).optional(),
  tests: z
    .array(z.enum([...TESTS, ...allAfterTests().map((t) => t.name)] as [string, ...string[]]))
    .min(1)
    .optional(),
  /** Seconds per throughput sample (iperf3 takes whole seconds). */
  duration: z.number().int().positive().max(3600).optional(),
  /** Seconds per latency sample (sockperf takes whole seconds). */
  latencyDuration: z.number().int().positive().max(3600).optional(),
  /** Seconds of one discarded TCP run per path before its tests. */
  warmup: z.number().int().min(0).max(60).optional(),
  /** A fixed number of rounds (no adaptive repeats). */
  repeats: z.number().int().min(1).max(100).optional(),
  /**
   * Adaptive repeats: at least this many rounds, at most maxRounds, until every ratio is within ±precision %, or the
   * budget (seconds) is spent.
   */
  minRounds: z.number().int().min(2).max(100).optional(),
  maxRounds: z.number().int().min(2).max(1000).optional(),
  precision: z.number().positive().max(100).optional(),
  /** Two rows are equivalent when the interval of their ratio lies within ± this % (as --equivalence). */
  equivalence: z.number().positive().lt(50).optional(),
  budget: z.number().positive().optional(),
  /** One lab at a time instead of every lab up at once. */
  sequential: z.boolean().optional(),
  /** The seed of the rounds' random order. */
  seed: z.number().int().min(0).optional(),
  /** Streams of tcp-parallel. */
  streams: z.number().int().min(2).max(128).optional(),
  /** Target rate of the udp test, Mbit/s. */
  udpRate: z.number().positive().max(1e6).optional(),
  /** Coefficient of variation (%) above which a row is flagged unstable. */
  covThreshold: z.number().positive().max(100).optional(),
  /** Pin clients to CPU 0 and servers to CPU 1. */
  pin: z.boolean().optional(),
  /** The flags of the tests after the rounds, each as its flag in camelCase (e.g. attachSizes for --attach-sizes). */
  ...Object.fromEntries(allAfterTests().flatMap((t) => t.flags.map((f) => [f.key, f.scenario.optional()]))),
});

export type Scenario = z.infer<typeof scenarioSchema>;

export function loadScenario(file: string): Scenario {
  let doc: unknown;
  try {
    doc = parseYaml(readFileSync(file, 'utf8')) ?? {};
  } catch (e) {
    throw new CnilabError('INVALID_INPUT', `${file}: ${messageOf(e).split('\n')[0]}`);
  }
  const r = scenarioSchema.safeParse(doc);
  if (!r.success) {
    const i = r.error.issues[0]!;
    const what = i.code === 'unrecognized_keys' ? `unknown field ${i.keys.join(', ')}` : i.message;
    throw new CnilabError('INVALID_INPUT', `${file}: ${i.path.join('.') || '(top level)'}: ${what}`);
  }
  return r.data.topology ? { ...r.data, topology: resolve(dirname(file), r.data.topology) } : r.data;
}
