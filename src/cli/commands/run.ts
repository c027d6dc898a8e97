import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { architectures, defaultArchitectures } from '../../arch';
import { PATHS, type PathName } from '../../arch/architecture';
import { CnilabError } from '../../lib/errors';
import { loadTopology } from '../../topology/load';
import { runBenchmark, type RunProgress } from '../../run/run';
import type { RunResults } from '../../run/results-schema';
import { loadScenario, type Scenario } from '../../run/scenario';
import { list, positiveNumber, printJson, runCommand, VERSION } from '../context';
import { duration, table } from '../output';

interface RunFlags {
  arch?: string[];
  path?: string[];
  duration?: number;
  warmup?: number;
  repeats?: number;
  out?: string;
  topology?: string;
  lab?: string;
  json?: boolean;
}

function stamp(d: Date): string {
  return d.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
}

export function registerRun(program: Command): void {
  program
    .command('run')
    .description('measure every architecture on every path and write results.json (default: the whole matrix)')
    .argument('[scenario]', 'scenario YAML (topology, archs, paths, duration, warmup, repeats); flags override it')
    .option('--arch <a,b>', `architectures (default: ${defaultArchitectures().join(',')}; also: ${architectures.names().filter((n) => !defaultArchitectures().includes(n)).join(',')})`, list)
    .option('--path <p,q>', `paths (default: ${PATHS.join(',')})`, list)
    .option('--duration <s>', 'seconds measured per sample (default 5)', positiveNumber('--duration'))
    .option('--warmup <s>', 'seconds run first and discarded, per sample (default 1)', (v) => (v === '0' ? 0 : positiveNumber('--warmup', true)(v)))
    .option('--repeats <n>', 'samples per row (default 3)', positiveNumber('--repeats', true))
    .option('--out <dir>', 'run folder (default: runs/<timestamp>)')
    .option('--topology <file>', 'topology YAML (overrides the scenario\'s)')
    .option('--lab <name>', 'lab name (default: the topology\'s name)')
    .option('--json', 'print results.json to stdout instead of the table')
    .action((scenarioFile: string | undefined, o: RunFlags) =>
      runCommand(o.json, async (signal) => {
        const sc: Scenario = scenarioFile ? loadScenario(scenarioFile) : {};
        const archNames = o.arch ?? sc.archs ?? defaultArchitectures();
        const archs = archNames.map((a) => architectures.get(a));
        const paths = (o.path ?? sc.paths ?? [...PATHS]).map((p) => {
          if (!(PATHS as readonly string[]).includes(p)) throw new CnilabError('UNKNOWN_PATH', `--path: unknown path ${JSON.stringify(p)}; known: ${PATHS.join(', ')}`);
          return p as PathName;
        });
        const topology = loadTopology(o.topology ?? sc.topology, o.lab === undefined ? {} : { name: o.lab });
        const started = new Date();
        const outDir = resolve(o.out ?? join('runs', stamp(started)));
        const results = await runBenchmark({
          topology,
          archs,
          paths,
          durationSec: o.duration ?? sc.duration ?? 5,
          warmupSec: o.warmup ?? sc.warmup ?? 1,
          repeats: o.repeats ?? sc.repeats ?? 3,
          outDir,
          signal,
          version: VERSION,
          onProgress: progressPrinter(),
        });
        if (o.json) printJson(results);
        else printResults(results, outDir);
      }),
    );
}

/** Progress on stderr: one line per step (a TTY redraws one line). */
function progressPrinter(): (p: RunProgress) => void {
  const tty = process.stderr.isTTY && !process.env.CI;
  return (p) => {
    const line = `[${p.done}/${p.total}] ${p.message}${p.etaSec !== undefined ? ` — about ${duration(p.etaSec)} left` : ''}`;
    if (tty) process.stderr.write(`\r\x1b[2K${line}`);
    else process.stderr.write(`${line}\n`);
  };
}

function printResults(r: RunResults, outDir: string): void {
  if (process.stderr.isTTY && !process.env.CI) process.stderr.write('\r\x1b[2K');
  const rows = r.rows.map((x) => [
    x.arch,
    x.path,
    x.gbps.median.toFixed(2),
    `${x.gbps.min.toFixed(2)}–${x.gbps.max.toFixed(2)}`,
    x.baselinePct === null ? '—' : `${x.baselinePct.toFixed(0)}%`,
    x.mtu,
    x.retransmits,
    `${x.cpu.user.toFixed(0)}/${x.cpu.system.toFixed(0)}/${x.cpu.softirq.toFixed(0)}`,
    x.gbpsPerBusyCore?.toFixed(2) ?? '—',
  ]);
  const out = [
    table(['ARCH', 'PATH', 'GBIT/S', 'MIN–MAX', 'OF HOST', 'MTU', 'RETR', 'CPU% USR/SYS/SIRQ', 'GBIT/S PER CORE'], rows, [2, 3, 4, 5, 6, 8]),
    '',
    ...r.rows.flatMap((x) =>
      (x.datapath ?? []).map(
        (d) =>
          `${x.arch} ${x.path}: ${d.process}@${d.node} moved ${d.wirePackets ?? d.packets} packets on the wire (${d.packets} through ${d.device}) at ${(d.cpu.user + d.cpu.system).toFixed(0)}% of a core (${d.cpu.user.toFixed(0)} usr/${d.cpu.system.toFixed(0)} sys); syscalls ${d.syscallsPerWirePacket?.toFixed(2) ?? '?'} per wire packet, ${d.syscallsPerMB?.toFixed(0) ?? '?'} per MB (${d.procIoSyscallsPerPacket.toFixed(2)} TUN reads+writes per device packet in /proc); ${(d.contextSwitchesPerPacket.voluntary + d.contextSwitchesPerPacket.involuntary).toFixed(3)} context switches per device packet`,
      ),
    ),
    ...r.skipped.map((s) => `skipped ${s.arch}${s.path ? ` ${s.path}` : ''}: ${s.reason}`),
    `${r.rows.length} rows, ${r.settings.repeats} × ${r.settings.durationSec} s each (+${r.settings.warmupSec} s warm-up); CPU in % of all ${r.environment.cpus} CPUs; took ${duration(r.durationSec)}`,
    `results: ${join(outDir, 'results.json')}`,
  ];
  process.stdout.write(out.join('\n') + '\n');
}
