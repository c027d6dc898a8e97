/** Host CPU time from /proc/stat, split the way network cost needs it: user, system, softirq. */
import { readFileSync } from 'node:fs';

export interface CpuTimes {
  readonly user: number;
  readonly nice: number;
  readonly system: number;
  readonly idle: number;
  readonly iowait: number;
  readonly irq: number;
  readonly softirq: number;
  readonly steal: number;
}

/** Percent of all CPUs' time (100 = every core busy for the whole interval). */
export interface CpuSplit {
  readonly user: number;
  readonly system: number;
  readonly softirq: number;
  /** user + system + softirq + irq + steal. */
  readonly busy: number;
}

/** Parses the aggregate "cpu" line of /proc/stat (values in USER_HZ ticks). */
export function parseProcStat(text: string): CpuTimes {
  const line = text.split('\n').find((l) => /^cpu\s/.test(l));
  if (!line) throw new Error('/proc/stat has no aggregate "cpu" line');
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  if (v.length < 8 || v.some((n) => !Number.isFinite(n))) throw new Error(`/proc/stat cpu line is malformed: ${line}`);
  const [user, nice, system, idle, iowait, irq, softirq, steal] = v as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  return { user, nice, system, idle, iowait, irq, softirq, steal };
}

export function readCpuTimes(): CpuTimes {
  return parseProcStat(readFileSync('/proc/stat', 'utf8'));
}

export function cpuSplit(before: CpuTimes, after: CpuTimes): CpuSplit {
  const d = (k: keyof CpuTimes): number => Math.max(0, after[k] - before[k]);
  const total = (Object.keys(before) as (keyof CpuTimes)[]).reduce((s, k) => s + d(k), 0) || 1;
  const pct = (n: number): number => Math.round((n / total) * 1000) / 10;
  return {
    user: pct(d('user') + d('nice')),
    system: pct(d('system')),
    softirq: pct(d('softirq')),
    busy: pct(d('user') + d('nice') + d('system') + d('softirq') + d('irq') + d('steal')),
  };
}
