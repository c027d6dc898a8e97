import { POLICY_DATAPLANE_HELP, withPolicyDataplane } from './run-names';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { architectures, bigTcpArchitectures, defaultArchitectures } from '../../arch';
import { PATHS } from '../../arch/vocabulary';
import type { Family } from '../../lib/ip';
import { toFamily } from '../../topology/families';
import { familyList, IP_FAMILY_HELP, mtuList } from './run-dimensions';
import { CnilabError } from '../../lib/errors';
import { loadTopology } from '../../topology/load';
import { withUnderlay } from '../../topology/schema';
import { DEFAULT_BUDGET_SEC, runBenchmark, type RoundsOption, type RunProgress } from '../../run/run';
import { NOISE_LIMITS } from '../../run/noise';
import { PAIRINGS, type Pairing } from '../../run/paired';
import { DEFAULT_EQUIVALENCE_PCT } from '../../run/claims';
import { randomSeed } from '../../run/schedule';
import type { TestName } from '../../run/results-schema';
import { runTests } from '../../run/tests';
import { NO_PROXY, proxiedArchs, proxyList } from '../../run/proxied';
import { bigTcpArchs, bigTcpHelp, bigTcpOption } from '../../run/big-tcp';
import { DEFAULT_PATHS, pathNames, testNames } from './run-names';
import { proxyModes } from '../../proxy';
import { afterSettings, afterTests, allAfterTests } from '../../run/after';
import { writeOutputs } from '../../report/outputs';
import { loadScenario, type Scenario } from '../../run/scenario';
import { list, positiveNumber, printJson, runCommand, VERSION } from '../context';
import { duration } from '../output';
import { printResults } from './run-output';

interface RunFlags {
  arch?: string[];
  proxy?: string[];
  bigTcp?: string[];
  path?: string[];
  tests?: string[];
  duration?: number;
  latencyDuration?: number;
  warmup?: number;
  repeats?: number;
  minRounds?: number;
  maxRounds?: number;
  precision?: number;
  equivalence?: number;
  budget?: number;
  sequential?: boolean;
  seed?: number;
  pairing?: Pairing;
  maxSteal?: number;
  maxOutside?: number;
  streams?: number;
  udpRate?: number;
  covThreshold?: number;
  pin?: boolean;
  out?: string;
  topology?: string;
  lab?: string;
  underlayMtu?: number[];
  ipFamily?: Family[];
  policyDataplane?: string;
  json?: boolean;
}

/** What a plain `cnilab run` measures: within 5 minutes on 2 cores with the default matrix (docs/default-run.md). */
export const RUN_DEFAULTS = {
  tests: ['tcp', 'latency'] as TestName[],
  duration: 1,
  latencyDuration: 1,
  warmup: 0,
  minRounds: 2,
  precision: 5,
  equivalence: DEFAULT_EQUIVALENCE_PCT,
  pairing: 'round' as Pairing,
  streams: 4,
  udpRate: 1000,
  covThreshold: 5,
};

function stamp(d: Date): string {
  return d.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
}

const wholeSeconds =
  (name: string) =>
  (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n <= 0)
      throw new CnilabError(
        'INVALID_INPUT',
        `${name}: ${JSON.stringify(v)} must be a whole number of seconds (iperf3 and sockperf take whole seconds)`,
      );
    return n;
  };

/** Parses --streams: a whole number from 2 to 128. */
function streamCount(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 2 || n > 128)
    throw new CnilabError(
      'INVALID_INPUT',
      `--streams: ${JSON.stringify(v)} must be a whole number from 2 to 128 (1 stream is the tcp test)`,
    );
  return n;
}

/** The flags that decide how many rounds, and what a comparison may answer. */
function roundOptions(c: Command): Command {
  const d = RUN_DEFAULTS;
  return c
    .option(
      '--min-rounds <n>',
      `rounds at least: one sample of every row each (default ${d.minRounds})`,
      roundCount('--min-rounds'),
    )
    .option('--max-rounds <n>', 'rounds at most (default: as many as the budget allows)', roundCount('--max-rounds'))
    .option(
      '--precision <pct>',
      `stop adding rounds when every row's ratio to host is known within ± this % (default ${d.precision})`,
      precisionPct,
    )
    .option(
      '--equivalence <pct>',
      `two architectures are equivalent when the interval of their ratio lies within ± this % ` +
        `(default ${d.equivalence})`,
      equivalencePct,
    )
    .option(
      '--budget <time>',
      `start no round that would end the run later than this, e.g. 300, 90s, 15m ` +
        `(default ${DEFAULT_BUDGET_SEC / 60}m, grown to fit the minimum rounds)`,
      budgetSec,
    )
    .option('--repeats <n>', 'exactly n rounds: no adaptive repeats', positiveNumber('--repeats', true))
    .option('--sequential', 'one lab at a time (all its rounds), not every lab up at once')
    .option('--seed <n>', "seed of the rounds' random order (default: a new one, kept in results.json)", seedNumber);
}

/** Adds the flags of `cnilab run`, each with its default in its help. */
function runOptions(c: Command): Command {
  const d = RUN_DEFAULTS;
  return roundOptions(c)
    .option(
      '--arch <a,b>',
      `architectures (default: ${defaultArchitectures().join(',')}; also: ${architectures
        .names()
        .filter((n) => !defaultArchitectures().includes(n))
        .join(',')})`,
      list,
    )
    .option(
      '--proxy <m,n>',
      `Service proxy modes (${[...proxyModes.names(), NO_PROXY].join(', ')}): each architecture with pods in labs of ` +
        'its own per mode, named <arch>+<mode>, with the service path (default: none)',
      list,
    )
    .option('--big-tcp <off,on>', bigTcpHelp(bigTcpArchitectures()), list)
    .option('--path <p,q>', `paths (default: ${DEFAULT_PATHS.join(',')}; with --proxy also service)`, list)
    .option(
      '--tests <t,u>',
      `tests (default: ${d.tests.join(',')}; all: ${[...runTests.names(), ...afterTests.names()].join(',')})`,
      list,
    )
    .option('--duration <s>', `seconds per throughput sample (default ${d.duration})`, wholeSeconds('--duration'))
    .option(
      '--latency-duration <s>',
      `seconds per latency sample: one sockperf run, its first 0.4 s and last 0.05 s discarded ` +
        `(rtt: one iperf2 run, its first 0.1 s) (default ${d.latencyDuration})`,
      wholeSeconds('--latency-duration'),
    )
    .option(
      '--warmup <s>',
      `seconds of one discarded TCP run per path before its first round (default ${d.warmup}: none)`,
      (v) => (v === '0' ? 0 : wholeSeconds('--warmup')(v)),
    )
    .option(
      '--pairing <p>',
      `a sample's baseline partner: round (the same round's) or nearest (in time) (default ${d.pairing})`,
      pairingName,
    )
    .option(
      '--max-steal <pct>',
      `take a sample again when a hypervisor stole more than this % of CPU time during it ` +
        `(default ${NOISE_LIMITS.stealPct})`,
      positiveNumber('--max-steal'),
    )
    .option(
      '--max-outside <pct>',
      `take a sample again when processes outside the labs used more than this % of all CPUs during it ` +
        `(default ${NOISE_LIMITS.outsidePct})`,
      positiveNumber('--max-outside'),
    )
    .option('--streams <n>', `streams of tcp-parallel (default ${d.streams})`, streamCount)
    .option(
      '--udp-rate <mbps>',
      `target rate of the udp test, Mbit/s (default ${d.udpRate})`,
      positiveNumber('--udp-rate'),
    )
    .option(
      '--cov-threshold <pct>',
      `flag rows whose coefficient of variation is above this (default ${d.covThreshold})`,
      positiveNumber('--cov-threshold'),
    )
    .option('--no-pin', 'do not pin clients to CPU 0 and servers to CPU 1')
    .option('--out <dir>', 'run folder (default: runs/<timestamp>)')
    .option('--topology <file>', "topology YAML (overrides the scenario's)")
    .option(
      '--underlay-mtu <m,n>',
      'underlay MTUs, e.g. 1500,9000: each in labs of its own (<lab>-<arch>-m<MTU>), every row paired with host ' +
        "of the same MTU (default: the topology's)",
      mtuList,
    )
    .option('--ip-family <4,6>', IP_FAMILY_HELP, familyList)
    .option('--policy-dataplane <design>', POLICY_DATAPLANE_HELP)
    .option('--lab <name>', "lab name (default: the topology's name)")
    .option('--json', 'print results.json to stdout instead of the table; progress as JSON lines on stderr');
}

function roundCount(name: string): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 2 || n > 1000)
      throw new CnilabError('INVALID_INPUT', `${name}: ${JSON.stringify(v)} must be a whole number from 2 to 1000`);
    return n;
  };
}

function equivalencePct(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0 || n >= 50)
    throw new CnilabError(
      'INVALID_INPUT',
      `--equivalence: ${JSON.stringify(v)} must be a percentage above 0 and below 50, e.g. 3: two rows within ±3% ` +
        `of each other are equivalent`,
    );
  return n;
}

function precisionPct(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0 || n > 100)
    throw new CnilabError(
      'INVALID_INPUT',
      `--precision: ${JSON.stringify(v)} must be a percentage above 0 and at most 100, e.g. 5 for ±5%`,
    );
  return n;
}

/** Parses --budget: seconds, or a number with s, m or h. */
export function budgetSec(v: string): number {
  const m = /^(\d+(?:\.\d+)?)(s|m|h)?$/.exec(v.trim());
  const n = m ? Number(m[1]) * { s: 1, m: 60, h: 3600 }[(m[2] ?? 's') as 's' | 'm' | 'h'] : NaN;
  if (!(n > 0))
    throw new CnilabError('INVALID_INPUT', `--budget: ${JSON.stringify(v)} must be a time such as 300, 90s, 15m or 1h`);
  return n;
}

function seedNumber(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n >= 2 ** 32)
    throw new CnilabError('INVALID_INPUT', `--seed: ${JSON.stringify(v)} must be a whole number from 0 to 4294967295`);
  return n;
}

function pairingName(v: string): Pairing {
  if (!(PAIRINGS as readonly string[]).includes(v))
    throw new CnilabError('INVALID_INPUT', `--pairing: ${JSON.stringify(v)} must be one of ${PAIRINGS.join(', ')}`);
  return v as Pairing;
}

/** Fixed rounds (--repeats) or adaptive ones; the flags of one kind exclude the other's. */
function roundsOption(o: RunFlags, file: Scenario): RoundsOption {
  const flagged = (x: Pick<RunFlags, 'minRounds' | 'maxRounds' | 'precision' | 'budget'>): boolean =>
    [x.minRounds, x.maxRounds, x.precision, x.budget].some((v) => v !== undefined);
  // Flags override the scenario: rounds of one kind on the command line set the scenario's other kind aside.
  const sc: Scenario =
    o.repeats !== undefined
      ? { ...file, minRounds: undefined, maxRounds: undefined, precision: undefined, budget: undefined }
      : flagged(o)
        ? { ...file, repeats: undefined }
        : file;
  const repeats = o.repeats ?? sc.repeats;
  const adaptive = (
    [
      ['--min-rounds', o.minRounds ?? sc.minRounds],
      ['--max-rounds', o.maxRounds ?? sc.maxRounds],
      ['--precision', o.precision ?? sc.precision],
      ['--budget', o.budget ?? sc.budget],
    ] as const
  ).filter(([, v]) => v !== undefined);
  if (repeats !== undefined && adaptive.length)
    throw new CnilabError(
      'INVALID_INPUT',
      `--repeats fixes the rounds; ${adaptive.map(([f]) => f).join(', ')} ${adaptive.length > 1 ? 'are' : 'is'} ` +
        `for adaptive rounds: give one or the other`,
    );
  if (repeats !== undefined) return { fixed: repeats };
  const min = o.minRounds ?? sc.minRounds ?? RUN_DEFAULTS.minRounds;
  const max = o.maxRounds ?? sc.maxRounds;
  if (max !== undefined && max < min)
    throw new CnilabError('INVALID_INPUT', `--max-rounds: ${max} is below --min-rounds ${min}`);
  const sequential = o.sequential ?? sc.sequential ?? false;
  if (sequential && adaptive.some(([f]) => f === '--precision' || f === '--budget'))
    throw new CnilabError(
      'INVALID_INPUT',
      '--sequential takes --min-rounds (or --repeats) rounds per lab: adaptive repeats (--precision, --budget) ' +
        'need every lab up at once',
    );
  return {
    min,
    ...(max !== undefined ? { max } : {}),
    precisionPct: o.precision ?? sc.precision ?? RUN_DEFAULTS.precision,
    ...((o.budget ?? sc.budget) !== undefined ? { budgetSec: (o.budget ?? sc.budget)! } : {}),
  };
}

/** Runs the benchmark the flags and scenario describe, writes the run folder and prints the results. */
async function runAction(
  scenarioFile: string | undefined,
  o: RunFlags,
  cmd: Command,
  signal: AbortSignal,
): Promise<void> {
  const d = RUN_DEFAULTS;
  const sc: Scenario = scenarioFile ? loadScenario(scenarioFile) : {};
  const archNames = o.arch ?? sc.archs ?? defaultArchitectures();
  const proxies = o.proxy ?? sc.proxy;
  const modes = proxies && proxyList(proxies, o.proxy ? '--proxy' : 'proxy');
  const archs = bigTcpArchs(
    proxiedArchs(
      archNames.map((a) => architectures.get(a)),
      modes,
    ),
    bigTcpOption(o.bigTcp, sc.bigTcp),
  );
  const proxied = archs.some((a) => a.proxied);
  const paths = pathNames(o.path ?? sc.paths ?? (proxied ? [...PATHS] : DEFAULT_PATHS), proxied);
  const named = testNames(o.tests ?? sc.tests ?? d.tests);
  const tests = named.filter((t) => runTests.has(t)) as TestName[];
  // The tests after the rounds' flags are theirs (run/after/): commander keeps them beside the others.
  const afterRounds = afterSettings(named, { ...o }, sc);
  const mtus = o.underlayMtu ?? (sc.underlayMtu && [...new Set(sc.underlayMtu)]);
  let topology = withUnderlay(loadTopology(o.topology ?? sc.topology, o.lab === undefined ? {} : { name: o.lab }), {
    // One MTU is the topology's MTU; several are a dimension of the run, each in labs of its own.
    ...(mtus ? { mtu: mtus[0] } : {}),
    ...(sc.underlay ? { link: sc.underlay } : {}),
  });
  topology = withPolicyDataplane(topology, archs, o.policyDataplane, sc.policyDataplane);
  const families = o.ipFamily ?? (sc.ipFamily && [...new Set(sc.ipFamily.map(toFamily))]);
  const started = new Date();
  const outDir = resolve(o.out ?? join('runs', stamp(started)));
  // --no-pin is the only way to say false on the command line; the scenario decides otherwise.
  const pin = cmd.getOptionValueSource('pin') === 'cli' ? o.pin !== false : (sc.pin ?? true);
  const before = existsSync(outDir) ? readdirSync(outDir) : undefined;
  const results = await runBenchmark({
    topology,
    ...(mtus && mtus.length > 1 ? { underlayMtus: mtus } : {}),
    ...(families ? { ipFamilies: families } : {}),
    archs,
    paths,
    tests,
    afterRounds,
    durationSec: o.duration ?? sc.duration ?? d.duration,
    latencySec: o.latencyDuration ?? sc.latencyDuration ?? d.latencyDuration,
    warmupSec: o.warmup ?? sc.warmup ?? d.warmup,
    rounds: roundsOption(o, sc),
    sequential: o.sequential ?? sc.sequential ?? false,
    seed: o.seed ?? sc.seed ?? randomSeed(),
    pairing: o.pairing ?? d.pairing,
    limits: { stealPct: o.maxSteal ?? NOISE_LIMITS.stealPct, outsidePct: o.maxOutside ?? NOISE_LIMITS.outsidePct },
    streams: o.streams ?? sc.streams ?? d.streams,
    udpRateMbps: o.udpRate ?? sc.udpRate ?? d.udpRate,
    covThresholdPct: o.covThreshold ?? sc.covThreshold ?? d.covThreshold,
    equivalencePct: o.equivalence ?? sc.equivalence ?? d.equivalence,
    pin,
    outDir,
    signal,
    version: VERSION,
    onProgress: progressPrinter(o.json === true),
  }).catch((e: unknown) => {
    if (signal.aborted) removeAdded(outDir, before);
    throw e;
  });
  const written = await writeOutputs(results, outDir);
  if (o.json) printJson(results);
  else printResults(results, outDir, written);
}

/**
 * Removes what an interrupted run added to its folder: the folder itself when the run made it (`before`
 * undefined), else the entries that were not there. Interrupted (Ctrl-C), a run ends before results.json
 * is written, and conflists without results are of no use to `report` or `compare`; removing them keeps
 * true the message "everything the command created was removed". A failure other than an interrupt keeps
 * the folder: its conflists help find the cause.
 */
function removeAdded(outDir: string, before: readonly string[] | undefined): void {
  if (!before) rmSync(outDir, { recursive: true, force: true });
  else if (existsSync(outDir))
    for (const entry of readdirSync(outDir))
      if (!before.includes(entry)) rmSync(join(outDir, entry), { recursive: true, force: true });
}

export function registerRun(program: Command): void {
  afterOptions(
    runOptions(
      program
        .command('run')
        .description(
          'measure every architecture on every path; write ' +
            'results.json, results.csv and report.html into the run folder',
        )
        .argument('[scenario]', 'scenario YAML (topology, archs, paths, tests, duration, …); flags override it'),
    ),
  ).action((scenarioFile: string | undefined, o: RunFlags, cmd: Command) =>
    runCommand(o.json, (signal) => runAction(scenarioFile, o, cmd, signal)),
  );
}

/**
 * Progress on stderr. A terminal gets one live line (step, share done, elapsed, ETA); a pipe or CI
 * gets one plain line per step; --json gets one JSON object per step.
 */
function progressPrinter(json: boolean): (p: RunProgress) => void {
  const tty = process.stderr.isTTY && !process.env.CI && !json;
  return (p) => {
    if (json) {
      process.stderr.write(JSON.stringify({ event: 'progress', ...p }) + '\n');
      return;
    }
    const pct = p.total ? Math.floor((p.done / p.total) * 100) : 0;
    const line =
      `[${p.done}/${p.total} ${pct}%] ${p.step} — ` +
      `${duration(p.elapsedSec)} elapsed, about ${duration(p.etaSec)} left`;
    if (tty) process.stderr.write(`\r\x1b[2K${line.slice(0, (process.stderr.columns || 120) - 1)}`);
    else process.stderr.write(`${line}\n`);
  };
}

/** Adds the flags of every test after the rounds. */
function afterOptions(c: Command): Command {
  for (const f of allAfterTests().flatMap((t) => t.flags)) c.option(f.flag, f.help, f.parse);
  return c;
}
