/**
 * Measuring a user-space data path while traffic runs: for each agent on the path that moves
 * packets itself (it writes datapath.json), its /proc counters and its device's kernel packet
 * counters before and after every sample.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sleep } from '../lib/exec';
import { ipJson } from '../lib/netns';
import { nodeDir } from '../lab/processes';
import { nodeNetns } from '../lab/names';
import { addDelta, cpuPercent, readProcSample, ZERO, type ProcSample } from '../traffic/cpu/proc-pid';
import type { DatapathCost } from './results-schema';

interface Tracked {
  readonly node: string;
  readonly pid: number;
  readonly device: string;
  readonly file: string;
  total: ProcSample;
  packets: number;
  own: OwnCounters;
  seconds: number;
  before?: { proc: ProcSample; packets: number; own: OwnCounters; t: number };
}

/** The process's own counters (datapath.json, refreshed every 100 ms). */
interface OwnCounters {
  /** System calls. */
  calls: number;
  /** Packets on the wire (UDP datagrams out + in): a super-packet counts as its segments. */
  wire: number;
  bytes: number;
}
const NONE: OwnCounters = { calls: 0, wire: 0, bytes: 0 };

function ownCounters(file: string): OwnCounters {
  const d = JSON.parse(readFileSync(file, 'utf8')) as Partial<
    Record<'syscalls' | 'packetsOut' | 'packetsIn' | 'bytesOut' | 'bytesIn', number>
  >;
  return {
    calls: d.syscalls ?? 0,
    wire: (d.packetsOut ?? 0) + (d.packetsIn ?? 0),
    bytes: (d.bytesOut ?? 0) + (d.bytesIn ?? 0),
  };
}

/** A process that moved fewer packets than this did not carry the traffic (strays: IPv6 solicitations). */
const MIN_PACKETS = 100;

async function devicePackets(lab: string, node: string, device: string): Promise<number> {
  const [l] = await ipJson<{ stats64: { rx: { packets: number }; tx: { packets: number } } }[]>(
    { name: nodeNetns(lab, node) },
    ['-s', 'link', 'show', 'dev', device],
  );
  return (l?.stats64.rx.packets ?? 0) + (l?.stats64.tx.packets ?? 0);
}

export class DatapathMeter {
  private readonly tracked: Tracked[];

  constructor(
    private readonly lab: string,
    nodes: readonly string[],
  ) {
    this.tracked = [...new Set(nodes)].flatMap((node) => {
      const file = join(nodeDir(lab, node), 'datapath.json');
      if (!existsSync(file)) return [];
      const d = JSON.parse(readFileSync(file, 'utf8')) as { pid: number; device?: string };
      return d.device
        ? [{ node, pid: d.pid, device: d.device, file, total: ZERO, packets: 0, own: NONE, seconds: 0 }]
        : [];
    });
  }

  async start(): Promise<void> {
    for (const t of this.tracked)
      t.before = {
        proc: readProcSample(t.pid),
        packets: await devicePackets(this.lab, t.node, t.device),
        own: ownCounters(t.file),
        t: performance.now(),
      };
  }

  async stop(): Promise<void> {
    if (this.tracked.length === 0) return;
    const ends: { proc: ProcSample; packets: number; t: number }[] = [];
    for (const t of this.tracked)
      ends.push({
        proc: readProcSample(t.pid),
        packets: await devicePackets(this.lab, t.node, t.device),
        t: performance.now(),
      });
    await sleep(150); // the process's own counters reach its file within 100 ms
    this.tracked.forEach((t, i) => {
      const end = ends[i]!;
      if (!t.before) return;
      const own = ownCounters(t.file);
      t.own = {
        calls: t.own.calls + own.calls - t.before.own.calls,
        wire: t.own.wire + own.wire - t.before.own.wire,
        bytes: t.own.bytes + own.bytes - t.before.own.bytes,
      };
      t.total = addDelta(t.total, t.before.proc, end.proc);
      t.packets += end.packets - t.before.packets;
      t.seconds += (end.t - t.before.t) / 1000;
    });
  }

  results(): DatapathCost[] | undefined {
    const moved = this.tracked.filter((t) => t.packets >= MIN_PACKETS);
    if (moved.length === 0) return undefined;
    const per = (n: number, p: number): number => Math.round((n / p) * 1000) / 1000;
    return moved.map((t) => ({
      process: 'agent',
      node: t.node,
      device: t.device,
      packets: t.packets,
      cpu: { user: cpuPercent(t.total.utime, t.seconds), system: cpuPercent(t.total.stime, t.seconds) },
      syscallsPerPacket: per(t.own.calls, t.packets),
      wirePackets: t.own.wire,
      syscallsPerWirePacket: per(t.own.calls, t.own.wire),
      syscallsPerMB: per(t.own.calls, t.own.bytes / 1e6),
      procIoSyscallsPerPacket: per(t.total.syscalls, t.packets),
      contextSwitchesPerPacket: {
        voluntary: per(t.total.voluntary, t.packets),
        involuntary: per(t.total.involuntary, t.packets),
      },
    }));
  }
}
