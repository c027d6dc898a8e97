/**
 * Whether this machine is quiet enough to measure on — what pyperf's `system check` is to Python
 * benchmarks. Over one second: how busy the CPUs are and with which processes, how much time a
 * hypervisor steals, the load; and whether the CPU frequency may change during a run. Each check
 * says what to do about it. The judging is pure (`judgeQuiet`); `sampleQuiet` reads /proc and /sys.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { sleep } from '../lib/exec';
import { parseProcStat, type CpuTimes } from '../traffic/cpu/proc-stat';
import { CLK_TCK, processTicks } from '../traffic/cpu/proc-pid';

export type QuietCheckName = 'cpu-busy' | 'steal' | 'busy-processes' | 'load' | 'frequency';

export interface QuietCheck {
  readonly check: QuietCheckName;
  readonly ok: boolean;
  /** What was found, e.g. "3.1% of 2 CPUs". */
  readonly value: string;
  /** What to do about it (when not ok), or why it is fine. */
  readonly advice: string;
}

/** Above these, a check fails. */
export const QUIET_LIMITS = {
  /** % of all CPUs busy while nothing of cnilab runs. */
  busyPct: 10,
  /** % of all CPU time a hypervisor took. */
  stealPct: 2,
  /** % of one core a single other process used. */
  processPct: 5,
  /** 1-minute load average per CPU. */
  loadPerCpu: 0.5,
} as const;

export interface QuietSample {
  readonly before: CpuTimes;
  readonly after: CpuTimes;
  readonly seconds: number;
  readonly cpus: number;
  /** Processes that used CPU during the sample: % of one core each. */
  readonly processes: readonly { readonly pid: number; readonly comm: string; readonly cpuPct: number }[];
  readonly load1: number;
  /** The cpufreq governors in use; undefined when the kernel exposes none (typical of a VM). */
  readonly governors?: readonly string[];
}

const pct = (n: number): string => `${n.toFixed(1)}%`;

export function judgeQuiet(s: QuietSample, limits = QUIET_LIMITS): QuietCheck[] {
  const d = (k: keyof CpuTimes): number => Math.max(0, s.after[k] - s.before[k]);
  const total = (Object.keys(s.before) as (keyof CpuTimes)[]).reduce((n, k) => n + d(k), 0) || 1;
  const busy = ((total - d('idle') - d('iowait')) / total) * 100;
  const steal = (d('steal') / total) * 100;
  const heavy = s.processes.filter((p) => p.cpuPct > limits.processPct).sort((a, b) => b.cpuPct - a.cpuPct);
  const perCpu = s.load1 / s.cpus;
  const slow = s.governors?.filter((g) => g !== 'performance') ?? [];
  return [
    {
      check: 'cpu-busy',
      ok: busy <= limits.busyPct,
      value: `${pct(busy)} of ${s.cpus} CPUs busy`,
      advice:
        busy <= limits.busyPct
          ? 'idle enough'
          : `other work uses the CPUs (limit ${limits.busyPct}%): stop it, or expect wider intervals`,
    },
    {
      check: 'steal',
      ok: steal <= limits.stealPct,
      value: `${pct(steal)} stolen`,
      advice:
        steal <= limits.stealPct
          ? 'the hypervisor leaves this VM its CPUs'
          : `a hypervisor takes CPU time from this VM (limit ${limits.stealPct}%): run on a quieter or dedicated ` +
            `host, or expect run-to-run differences`,
    },
    {
      check: 'busy-processes',
      ok: heavy.length === 0,
      value: heavy.length
        ? heavy
            .slice(0, 5)
            .map((p) => `${p.comm} (PID ${p.pid}) ${pct(p.cpuPct)}`)
            .join(', ')
        : 'none',
      advice: heavy.length
        ? `processes above ${limits.processPct}% of a core: stop them while measuring`
        : `no process above ${limits.processPct}% of a core`,
    },
    {
      check: 'load',
      ok: perCpu <= limits.loadPerCpu,
      value: `load ${s.load1.toFixed(2)} on ${s.cpus} CPUs`,
      advice:
        perCpu <= limits.loadPerCpu
          ? 'low'
          : `the last minute was busy (limit ${limits.loadPerCpu} per CPU): wait for it to settle`,
    },
    {
      check: 'frequency',
      ok: slow.length === 0,
      value: s.governors === undefined ? 'no cpufreq' : `governor ${[...new Set(s.governors)].join(', ')}`,
      advice:
        s.governors === undefined
          ? 'the kernel exposes no frequency scaling (a VM: the host decides)'
          : slow.length
            ? 'the frequency follows the load: cpupower frequency-set ' +
              '-g performance (Debian: linux-cpupower) for the run'
            : 'fixed at performance',
    },
  ];
}

function governors(): string[] | undefined {
  try {
    const dirs = readdirSync('/sys/devices/system/cpu').filter((d) => /^cpu\d+$/.test(d));
    const gov = dirs.flatMap((d) => {
      try {
        return [readFileSync(`/sys/devices/system/cpu/${d}/cpufreq/scaling_governor`, 'utf8').trim()];
      } catch {
        return [];
      }
    });
    return gov.length ? gov : undefined;
  } catch {
    return undefined;
  }
}

/** Samples the machine for `ms` milliseconds (this process itself left out). */
export async function sampleQuiet(ms = 1000): Promise<QuietSample> {
  const stat = (): CpuTimes => parseProcStat(readFileSync('/proc/stat', 'utf8'));
  const [before, p0, t0] = [stat(), processTicks(), performance.now()];
  await sleep(ms);
  const [after, p1, seconds] = [stat(), processTicks(), (performance.now() - t0) / 1000];
  const processes = [...p1]
    .filter(([pid]) => pid !== process.pid && p0.has(pid))
    .map(([pid, p]) => ({ pid, comm: p.comm, cpuPct: ((p.ticks - p0.get(pid)!.ticks) / CLK_TCK / seconds) * 100 }))
    .filter((p) => p.cpuPct > 0);
  const load1 = Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);
  return { before, after, seconds, cpus: cpus().length, processes, load1, governors: governors() };
}
