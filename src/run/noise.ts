/**
 * Noise around one sample: how much CPU time a hypervisor stole, how much the processes outside
 * the run's labs used, and the load. A process is in a lab when its network namespace is one of
 * the labs' (compared by the namespace's inode); kernel threads (they carry the labs' packets) and
 * cnilab itself are not counted as outside. The judging is pure (`judgeNoise`); `readNoise` reads /proc.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { cpus } from 'node:os';
import { parseProcStat, type CpuTimes } from '../traffic/cpu/proc-stat';
import { parsePidStat } from '../traffic/cpu/proc-pid';

/** Above these (% of all CPU time during the sample) a sample is disturbed and taken again, once. */
export interface NoiseLimits {
  readonly stealPct: number;
  readonly outsidePct: number;
}
export const NOISE_LIMITS: NoiseLimits = { stealPct: 5, outsidePct: 10 };

export interface NoiseReading {
  readonly cpu: CpuTimes;
  /** CPU ticks of each outside process, by PID. */
  readonly outside: ReadonlyMap<number, number>;
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

const PF_KTHREAD = 0x00200000;

/** The inodes of the named namespaces under /run/netns (the labs'); a vanished one is left out. */
export function netnsInodes(names: readonly string[]): Set<number> {
  const out = new Set<number>();
  for (const n of names) {
    try {
      out.add(statSync(`/run/netns/${n}`).ino);
    } catch {
      // gone: nothing of it can run
    }
  }
  return out;
}

/** CPU ticks now, and of every process outside the given namespaces (not kernel threads, not us). */
export function readNoise(labNetns: ReadonlySet<number>): NoiseReading {
  const outside = new Map<number, number>();
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    const pid = Number(e);
    if (pid === process.pid) continue;
    try {
      const text = readFileSync(`/proc/${e}/stat`, 'utf8');
      const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[6]) & PF_KTHREAD) continue;
      if (labNetns.has(statSync(`/proc/${e}/ns/net`).ino)) continue;
      const { utime, stime } = parsePidStat(text);
      outside.set(pid, utime + stime);
    } catch {
      // ended while we looked
    }
  }
  return { cpu: parseProcStat(readFileSync('/proc/stat', 'utf8')), outside };
}

const comm = (pid: number): string => {
  try {
    const t = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return t.slice(t.indexOf('(') + 1, t.lastIndexOf(')'));
  } catch {
    return '?';
  }
};

/** What happened between two readings, judged against the limits. */
export function judgeNoise(
  before: NoiseReading,
  after: NoiseReading,
  load1: number,
  limits: NoiseLimits,
  name: (pid: number) => string = comm,
): SampleNoise {
  const d = (k: keyof CpuTimes): number => Math.max(0, after.cpu[k] - before.cpu[k]);
  const total = (Object.keys(before.cpu) as (keyof CpuTimes)[]).reduce((n, k) => n + d(k), 0) || 1;
  let outside = 0;
  let top: [number, number] | undefined;
  for (const [pid, ticks] of after.outside) {
    const used = ticks - (before.outside.get(pid) ?? 0);
    if (used <= 0) continue;
    outside += used;
    if (!top || used > top[1]) top = [pid, used];
  }
  const stealPct = Math.round((d('steal') / total) * 1000) / 10;
  const outsidePct = Math.round((outside / total) * 1000) / 10;
  return {
    stealPct,
    outsidePct,
    ...(top ? { top: `${name(top[0])} (PID ${top[0]})` } : {}),
    load1,
    disturbed: stealPct > limits.stealPct || outsidePct > limits.outsidePct,
  };
}

export const load1 = (): number => Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);

/** The labs' processes at idle: % of all CPUs over `ms`, and their resident memory. */
export interface IdleLabs {
  readonly labs: number;
  readonly cpuPct: number;
  /** Proportional set size: shared pages divided between the processes that share them. */
  readonly rssMiB: number;
  readonly processes: number;
}

/** A process's proportional set size in KiB (shared pages split between their users), 0 when unreadable. */
function pssKiB(pid: string): number {
  try {
    return Number(/^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

/** CPU ticks and proportional memory (KiB) of every process inside the given namespaces. */
export function labProcesses(labNetns: ReadonlySet<number>): { ticks: number; pssKiB: number; count: number } {
  let ticks = 0;
  let pss = 0;
  let count = 0;
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      if (!labNetns.has(statSync(`/proc/${e}/ns/net`).ino)) continue;
      const text = readFileSync(`/proc/${e}/stat`, 'utf8');
      const { utime, stime } = parsePidStat(text);
      ticks += utime + stime;
      pss += pssKiB(e);
      count++;
    } catch {
      // ended while we looked
    }
  }
  return { ticks, pssKiB: pss, count };
}

export const cpuCount = (): number => cpus().length;
