/**
 * The cost of one process, from /proc: CPU time (user, system), context switches (voluntary,
 * involuntary; summed over all its threads) and read/write-class system calls (syscr + syscw in
 * /proc/PID/io: read, write, recv, send and their kin — poll is not among them).
 */
import { readdirSync, readFileSync } from 'node:fs';

/** USER_HZ: the unit of /proc's CPU times on Linux. */
export const CLK_TCK = 100;

export interface ProcSample {
  readonly utime: number;
  readonly stime: number;
  readonly voluntary: number;
  readonly involuntary: number;
  readonly syscalls: number;
}

/** utime and stime (fields 14 and 15) of a /proc/PID/stat line; the command may hold spaces. */
export function parsePidStat(text: string): { utime: number; stime: number } {
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime))
    throw new Error(`malformed /proc/PID/stat: ${text.slice(0, 80)}`);
  return { utime, stime };
}

export function parseStatusSwitches(text: string): { voluntary: number; involuntary: number } {
  const get = (k: string): number => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(text)?.[1] ?? NaN);
  return { voluntary: get('voluntary_ctxt_switches'), involuntary: get('nonvoluntary_ctxt_switches') };
}

export function parseIoSyscalls(text: string): number {
  const get = (k: string): number => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(text)?.[1] ?? NaN);
  return get('syscr') + get('syscw');
}

export function readProcSample(pid: number): ProcSample {
  const { utime, stime } = parsePidStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  let voluntary = 0;
  let involuntary = 0;
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    try {
      const s = parseStatusSwitches(readFileSync(`/proc/${pid}/task/${task}/status`, 'utf8'));
      voluntary += s.voluntary;
      involuntary += s.involuntary;
    } catch {
      /* the thread ended */
    }
  }
  return { utime, stime, voluntary, involuntary, syscalls: parseIoSyscalls(readFileSync(`/proc/${pid}/io`, 'utf8')) };
}

/** Set in /proc/PID/stat's flags (field 9) for a kernel thread. */
const PF_KTHREAD = 0x00200000;

/** CPU time (ticks) and command of every process now, by PID — kernel threads left out; `keep` may leave out more. */
export function processTicks(
  keep: (pid: number) => boolean = () => true,
): Map<number, { comm: string; ticks: number }> {
  const out = new Map<number, { comm: string; ticks: number }>();
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e) || !keep(Number(e))) continue;
    try {
      const text = readFileSync(`/proc/${e}/stat`, 'utf8');
      if (Number(text.slice(text.lastIndexOf(')') + 2).split(' ')[6]) & PF_KTHREAD) continue;
      const { utime, stime } = parsePidStat(text);
      out.set(Number(e), { comm: text.slice(text.indexOf('(') + 1, text.lastIndexOf(')')), ticks: utime + stime });
    } catch {
      // ended while we looked
    }
  }
  return out;
}

/** Sums of differences over several intervals. */
export function addDelta(total: ProcSample, before: ProcSample, after: ProcSample): ProcSample {
  return {
    utime: total.utime + after.utime - before.utime,
    stime: total.stime + after.stime - before.stime,
    voluntary: total.voluntary + after.voluntary - before.voluntary,
    involuntary: total.involuntary + after.involuntary - before.involuntary,
    syscalls: total.syscalls + after.syscalls - before.syscalls,
  };
}

export const ZERO: ProcSample = { utime: 0, stime: 0, voluntary: 0, involuntary: 0, syscalls: 0 };

/** CPU as % of one core over `seconds`. */
export function cpuPercent(ticks: number, seconds: number): number {
  return seconds > 0 ? Math.round((ticks / CLK_TCK / seconds) * 1000) / 10 : 0;
}
