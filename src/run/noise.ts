/**
 * Noise around one sample: how much CPU time a hypervisor stole, how much the processes outside
 * the run's labs used, and the load. A process is in a lab when its network namespace is one of
 * the labs' (compared by the namespace's inode); kernel threads (they carry the labs' packets) and
 * cnilab itself are not counted as outside. The judging is pure (`judgeNoise`); `readNoise` reads /proc.
 */
import { readFileSync } from 'node:fs';
import { netnsInodeOf } from '../lib/netns';
import { parseProcStat, type CpuTimes } from '../traffic/cpu/proc-stat';
import { processTicks } from '../traffic/cpu/proc-pid';

/** Above these (% of all CPU time during the sample) a sample is disturbed and taken again, once. */
export interface NoiseLimits {
  readonly stealPct: number;
  readonly outsidePct: number;
}
export const NOISE_LIMITS: NoiseLimits = { stealPct: 5, outsidePct: 10 };

export interface NoiseReading {
  readonly cpu: CpuTimes;
  /** CPU ticks and command of each outside process, by PID. */
  readonly outside: ReadonlyMap<number, { readonly comm: string; readonly ticks: number }>;
}

export interface SampleNoise {
  /** % of all CPU time stolen by the hypervisor during the sample. */
  readonly stealPct: number;
  /** % of all CPU time used by processes outside the labs. */
  readonly outsidePct: number;
  /** The busiest outside process, when one used any CPU. */
  readonly top?: string;
  readonly load1: number;
  readonly disturbed: boolean;
}

/** CPU ticks now, and of every process outside the given namespaces (by inode; not kernel threads, not us). */
export function readNoise(labNetns: ReadonlySet<number>): NoiseReading {
  const outside = processTicks((pid) => pid !== process.pid && !labNetns.has(netnsInodeOf(pid) ?? -1));
  return { cpu: parseProcStat(readFileSync('/proc/stat', 'utf8')), outside };
}

/** What happened between two readings, judged against the limits. */
export function judgeNoise(before: NoiseReading, after: NoiseReading, load1: number, limits: NoiseLimits): SampleNoise {
  const d = (k: keyof CpuTimes): number => Math.max(0, after.cpu[k] - before.cpu[k]);
  const total = (Object.keys(before.cpu) as (keyof CpuTimes)[]).reduce((n, k) => n + d(k), 0) || 1;
  let outside = 0;
  let top: { pid: number; comm: string; used: number } | undefined;
  for (const [pid, p] of after.outside) {
    // A process that started during the sample counts from 0.
    const used = p.ticks - (before.outside.get(pid)?.ticks ?? 0);
    if (used <= 0) continue;
    outside += used;
    if (!top || used > top.used) top = { pid, comm: p.comm, used };
  }
  const stealPct = Math.round((d('steal') / total) * 1000) / 10;
  const outsidePct = Math.round((outside / total) * 1000) / 10;
  return {
    stealPct,
    outsidePct,
    ...(top ? { top: `${top.comm} (PID ${top.pid})` } : {}),
    load1,
    disturbed: stealPct > limits.stealPct || outsidePct > limits.outsidePct,
  };
}

export const load1 = (): number => Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);

/** The labs' processes at idle: % of all CPUs over a while, and their memory. */
export interface IdleLabs {
  readonly labs: number;
  readonly cpuPct: number;
  /** Proportional set size: shared pages divided between the processes that share them. */
  readonly rssMiB: number;
  readonly processes: number;
}

/** A process's proportional set size in KiB (shared pages split between their users), 0 when unreadable. */
function pssKiB(pid: number): number {
  try {
    return Number(/^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

/** CPU ticks and proportional memory (KiB) of the given processes (the labs': lab/teardown pidsInNetns). */
export function labProcesses(pids: readonly number[]): { ticks: number; pssKiB: number; count: number } {
  const mine = new Set(pids);
  const ticks = [...processTicks((pid) => mine.has(pid)).values()].reduce((n, p) => n + p.ticks, 0);
  return { ticks, pssKiB: pids.reduce((n, p) => n + pssKiB(p), 0), count: pids.length };
}
