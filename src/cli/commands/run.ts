import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { architectures, defaultArchitectures } from '../../arch';
import { PATHS, type PathName } from '../../arch/architecture';
import { CnilabError } from '../../lib/errors';
import { loadTopology } from '../../topology/load';
import { runBenchmark, type RunProgress } from '../../run/run';
import { METRIC_INFO, TESTS, type ResultRow, type RunResults, type TestName } from '../../run/results-schema';
import { runTests } from '../../run/tests';
import { writeOutputs } from '../../report/outputs';
import { loadScenario, type Scenario } from '../../run/scenario';
import { list, positiveNumber, printJson, runCommand, VERSION } from '../context';
import { duration, table } from '../output';

interface RunFlags {
  arch?: string[];
  path?: string[];
  tests?: string[];
  duration?: number;
  latencyDuration?: number;
  warmup?: number;
  repeats?: number;
  streams?: number;
  udpRate?: number;
  covThreshold?: number;
  pin?: boolean;
  out?: string;
  topology?: string;
  lab?: string;
  json?: boolean;
}

/** What a plain `cnilab run` measures: about 8 minutes on 2 cores with the default matrix (README). */
export const RUN_DEFAULTS = {
  tests: ['tcp', 'latency'] as TestName[],
  duration: 2,
  latencyDuration: 1,
  warmup: 1,
  repeats: 5,
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

/** Adds the flags of `cnilab run`, each with its default in its help. */
function runOptions(c: Command): Command {
  const d = RUN_DEFAULTS;
  return c
    .option(
      '--arch <a,b>',
      `architectures (default: ${defaultArchitectures().join(',')}; also: ${architectures
        .names()
        .filter((n) => !defaultArchitectures().includes(n))
        .join(',')})`,
      list,
    )
    .option('--path <p,q>', `paths (default: ${PATHS.join(',')})`, list)
    .option('--tests <t,u>', `tests (default: ${d.tests.join(',')}; all: ${TESTS.join(',')})`, list)
    .option('--duration <s>', `seconds per throughput sample (default ${d.duration})`, wholeSeconds('--duration'))
    .option(
      '--latency-duration <s>',
      `seconds per latency sample: one window of one sockperf run (default ${d.latencyDuration})`,
      wholeSeconds('--latency-duration'),
    )
    .option(
      '--warmup <s>',
      `seconds of one discarded TCP run per path before its tests (default ${d.warmup}; 0: none)`,
      (v) => (v === '0' ? 0 : wholeSeconds('--warmup')(v)),
    )
    .option(
      '--repeats <n>',
      `samples per row (default ${d.repeats}; 6 or more give a distribution-free confidence interval)`,
      positiveNumber('--repeats', true),
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
    .option('--lab <name>', "lab name (default: the topology's name)")
    .option('--json', 'print results.json to stdout instead of the table; progress as JSON lines on stderr');
}

/** Checks the names of --path (or the scenario's paths); throws on an unknown one. */
function pathNames(names: readonly string[]): PathName[] {
  return names.map((p) => {
    if (!(PATHS as readonly string[]).includes(p))
      throw new CnilabError('UNKNOWN_PATH', `--path: unknown path ${JSON.stringify(p)}; known: ${PATHS.join(', ')}`);
    return p as PathName;
  });
}

/** Checks the names of --tests (or the scenario's tests), without repeats; throws on an unknown one. */
function testNames(names: readonly string[]): TestName[] {
  return [...new Set(names)].map((t) => {
    if (!runTests.has(t))
      throw new CnilabError('INVALID_INPUT', `--tests: unknown test ${JSON.stringify(t)}; known: ${TESTS.join(', ')}`);
    return t as TestName;
  });
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
  const archs = archNames.map((a) => architectures.get(a));
  const paths = pathNames(o.path ?? sc.paths ?? [...PATHS]);
  const tests = testNames(o.tests ?? sc.tests ?? d.tests);
  const topology = loadTopology(o.topology ?? sc.topology, o.lab === undefined ? {} : { name: o.lab });
  const started = new Date();
  const outDir = resolve(o.out ?? join('runs', stamp(started)));
  // --no-pin is the only way to say false on the command line; the scenario decides otherwise.
  const pin = cmd.getOptionValueSource('pin') === 'cli' ? o.pin !== false : (sc.pin ?? true);
  const results = await runBenchmark({
    topology,
    archs,
    paths,
    tests,
    durationSec: o.duration ?? sc.duration ?? d.duration,
    latencySec: o.latencyDuration ?? sc.latencyDuration ?? d.latencyDuration,
    warmupSec: o.warmup ?? sc.warmup ?? d.warmup,
    repeats: o.repeats ?? sc.repeats ?? d.repeats,
    streams: o.streams ?? sc.streams ?? d.streams,
    udpRateMbps: o.udpRate ?? sc.udpRate ?? d.udpRate,
    covThresholdPct: o.covThreshold ?? sc.covThreshold ?? d.covThreshold,
    pin,
    outDir,
    signal,
    version: VERSION,
    onProgress: progressPrinter(o.json === true),
  });
  const written = await writeOutputs(results, outDir);
  if (o.json) printJson(results);
  else printResults(results, outDir, written);
}

export function registerRun(program: Command): void {
  runOptions(
    program
      .command('run')
      .description(
        'measure every architecture on every path; write results.json, results.csv and report.html into the run folder',
      )
      .argument('[scenario]', 'scenario YAML (topology, archs, paths, tests, duration, …); flags override it'),
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
    const line = `[${p.done}/${p.total} ${pct}%] ${p.step} — ${duration(p.elapsedSec)} elapsed, about ${duration(p.etaSec)} left`;
    if (tty) process.stderr.write(`\r\x1b[2K${line.slice(0, (process.stderr.columns || 120) - 1)}`);
    else process.stderr.write(`${line}\n`);
  };
}

const params = (r: ResultRow): string => runTests.get(r.test).label(r.params);

const fmt = (v: number, unit: string): string =>
  unit === 'packets/s' ? Math.round(v).toLocaleString('en-US') : v >= 100 ? v.toFixed(0) : v.toFixed(2);

/** What one sample was, for the tests that ran: "2 s throughput", "1 s latency windows". */
function sampleKinds(r: RunResults): string[] {
  const latency = r.settings.tests.some((t) => t.startsWith('latency'));
  const throughput = r.settings.tests.some((t) => !t.startsWith('latency'));
  return [
    ...(throughput ? [`${r.settings.durationSec} s throughput`] : []),
    ...(latency ? [`${r.settings.latencySec} s latency windows`] : []),
  ];
}

function printResults(r: RunResults, outDir: string, written: readonly string[]): void {
  if (process.stderr.isTTY && !process.env.CI) process.stderr.write('\r\x1b[2K');
  const rows = r.rows.map((x) => {
    const m = x.metrics[x.primary]!;
    const info = METRIC_INFO[x.primary];
    const extra = x.metrics.rttP99Us
      ? `p99 ${fmt(x.metrics.rttP99Us.median, 'µs')}`
      : x.metrics.lossPct
        ? `loss ${x.metrics.lossPct.median.toFixed(2)}%`
        : x.retransmits !== undefined
          ? `retr ${x.retransmits}`
          : '';
    return [
      x.arch,
      x.path,
      `${x.test}${params(x) ? ` ${params(x)}` : ''}`,
      `${fmt(m.median, info.unit)} ${info.unit}`,
      `${fmt(m.ci95.low, info.unit)}–${fmt(m.ci95.high, info.unit)}`,
      `${m.covPct.toFixed(1)}%${x.unstable ? ' UNSTABLE' : ''}`,
      x.baselinePct === null ? '—' : `${x.baselinePct.toFixed(0)}%`,
      x.coreSecondsPerGbit ? x.coreSecondsPerGbit.total.toFixed(3) : '—',
      extra,
    ];
  });
  const t = r.timing;
  const out = [
    table(['ARCH', 'PATH', 'TEST', 'MEDIAN', '95% CI', 'COV', 'OF HOST', 'CORE-S/GBIT', ''], rows, [3, 4, 5, 6, 7]),
    '',
    ...r.rows.flatMap((x) =>
      (x.datapath ?? []).map(
        (d) =>
          `${x.arch} ${x.path} ${x.test}: ${d.process}@${d.node} moved ${d.wirePackets ?? d.packets} packets on the wire (${d.packets} through ${d.device}) at ${(d.cpu.user + d.cpu.system).toFixed(0)}% of a core (${d.cpu.user.toFixed(0)} usr/${d.cpu.system.toFixed(0)} sys); syscalls ${d.syscallsPerWirePacket?.toFixed(2) ?? '?'} per wire packet, ${d.syscallsPerMB?.toFixed(0) ?? '?'} per MB; ${(d.contextSwitchesPerPacket.voluntary + d.contextSwitchesPerPacket.involuntary).toFixed(3)} context switches per device packet`,
      ),
    ),
    ...r.skipped.map((s) => `skipped ${s.arch}${s.path ? ` ${s.path}` : ''}${s.test ? ` ${s.test}` : ''}: ${s.reason}`),
    `${r.rows.length} rows × ${r.settings.repeats} samples (${sampleKinds(r).join(', ')}; ${r.settings.warmupSec} s warm-up per path); 95% CI of the median${r.settings.repeats < 6 ? ' (Student t below 6 samples)' : ''}; unstable = CoV above ${r.settings.covThresholdPct}%`,
    `took ${duration(r.durationSec)}: set-up ${duration(t.setupSec)}, warm-up ${duration(t.warmupSec)}, measuring ${duration(t.measureSec)}, tear-down ${duration(t.teardownSec)}, other ${duration(t.otherSec)}`,
    `written to ${outDir}: results.json, ${written.join(', ')}`,
  ];
  process.stdout.write(out.join('\n') + '\n');
}
