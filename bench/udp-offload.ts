/**
 * Benchmark: how much of the user-space penalty is design. flannel-udp-offload beside the kernel
 * (flannel-vxlan, host), the faithful per-packet flannel-udp and two C tunnels (socat, OpenVPN),
 * single TCP stream and 4 streams, in one run on the same lab topology; then the offload backend
 * again with its techniques switched on one at a time (TUN TSO, UDP GSO, UDP GRO, coalesced TUN
 * writes, recvmmsg), each step's throughput, system calls per MB and agent CPU printed beside the
 * last. Target: flannel-udp-offload ≥ 0.6 × flannel-vxlan single-stream (stretch 0.75 ×).
 *
 *   npm run bench:udp-offload -- [--duration S] [--rounds N] [--without tso,gso] [--no-steps] [--json]
 *   (C tunnels need scripts/setup.sh --bench; without them their rows are skipped)
 */
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { architectures } from '../src/arch';
import { flannelUdpOffloadWithout } from '../src/flannel/architectures';
import { TECHNIQUES } from '../src/flannel/backends/udp-offload-proxy';
import { nodeDir } from '../src/lab/processes';
import { down, up } from '../src/lab/lab';
import { nodeNetns } from '../src/lab/names';
import { parseTopology } from '../src/topology/load';
import { CLK_TCK, parsePidStat } from '../src/traffic/cpu/proc-pid';
import { median } from '../src/run/stats';
import { benchArgs, count, flag, seconds, str } from './args';
import { judge, targetLines, type Target } from './targets';
import { assertCTunnelsInstalled, C_TUNNELS, measureTcp, withCTunnel, type CTunnel } from './tunnels';

const LAB = 'bench-udp-offload';
const topology = parseTopology('topology: {computeNodes: 2, defaults: {pods: 1}}', 'bench', { name: LAB });

interface Sample {
  /** Gbit/s, one stream and four. */
  one: number;
  four: number;
  /** Gbit/s per busy core (host-wide CPU), single stream. */
  perCore: number;
  /** Both agents: system calls per MB moved and CPU in % of one core, single stream (user-space rows only). */
  syscallsPerMB?: number;
  agentCpu?: number;
}

const opts = benchArgs(
  'npm run bench:udp-offload -- [--duration S] [--rounds N] [--without tso,gso] [--no-steps] [--json]',
  { duration: seconds(4), rounds: count(2), without: str(), 'no-steps': flag },
);
const WHY =
  'how much of the user-space penalty is design: the offload techniques against the kernel VXLAN (docs/udp-offload.md)';
const TARGETS: readonly Target[] = [
  {
    name: 'flannel-udp-offload / flannel-vxlan, single stream',
    figure: 'offloadOverVxlan',
    direction: 'at least',
    threshold: 0.6,
    unit: '×',
    why: WHY,
  },
  {
    name: 'flannel-udp-offload / flannel-vxlan, single stream',
    figure: 'offloadOverVxlan',
    direction: 'at least',
    threshold: 0.75,
    unit: '×',
    why: WHY,
    stretch: true,
  },
];

/** The agents' own counters and CPU ticks (for the user-space rows). */
function agentCounters(): { calls: number; bytes: number; ticks: number } | undefined {
  let calls = 0;
  let bytes = 0;
  let ticks = 0;
  for (const node of ['node1', 'node2']) {
    try {
      const d = JSON.parse(readFileSync(join(nodeDir(LAB, node), 'datapath.json'), 'utf8')) as {
        pid: number;
        syscalls: number;
        bytesOut: number;
      };
      const { utime, stime } = parsePidStat(readFileSync(`/proc/${d.pid}/stat`, 'utf8'));
      calls += d.syscalls;
      bytes += d.bytesOut; // what one agent sends the other receives: count each byte once
      ticks += utime + stime;
    } catch {
      return undefined;
    }
  }
  return { calls, bytes, ticks };
}

async function sample(
  client: string,
  server: string,
  ip: string,
  duration: number,
  userSpace: boolean,
): Promise<Sample> {
  const before = userSpace ? agentCounters() : undefined;
  const t0 = performance.now();
  const s1 = await measureTcp(client, server, ip, duration);
  const seconds = (performance.now() - t0) / 1000;
  await new Promise((r) => setTimeout(r, 150)); // the agents write their counters every 100 ms
  const after = userSpace ? agentCounters() : undefined;
  const s4 = await measureTcp(client, server, ip, duration, 4);
  const one = s1.bitsPerSecond / 1e9;
  const busyCores = (s1.cpu.busy / 100) * cpus().length;
  const out: Sample = { one, four: s4.bitsPerSecond / 1e9, perCore: busyCores > 0 ? one / busyCores : 0 };
  if (before && after && after.bytes > before.bytes) {
    out.syscallsPerMB = (after.calls - before.calls) / ((after.bytes - before.bytes) / 1e6);
    out.agentCpu = ((after.ticks - before.ticks) / CLK_TCK / seconds) * 100;
  }
  return out;
}

/** Brings the lab up with `arch`, measures pod → pod across nodes (and `extra` in the same lab), takes it down. */
async function inLab(
  arch: string,
  duration: number,
  userSpace: boolean,
  extra?: () => Promise<Record<string, Sample>>,
): Promise<Record<string, Sample>> {
  const state = await up({ topology, arch });
  try {
    const [a, b] = [state.pods.find((p) => p.node === 'node1')!, state.pods.find((p) => p.node === 'node2')!];
    return { [arch]: await sample(a.netns, b.netns, b.ip, duration, userSpace), ...(extra ? await extra() : {}) };
  } finally {
    await down(LAB);
  }
}

// eslint-disable-next-line max-lines-per-function -- a benchmark's procedure, measured and printed in the order it runs
async function main(): Promise<void> {
  const { duration, rounds } = opts;
  const steps = !opts['no-steps'];
  const without = opts.without?.split(',').filter(Boolean) ?? [];
  let cTunnels = true;
  try {
    assertCTunnelsInstalled();
  } catch (e) {
    cTunnels = false;
    if (!opts.json) process.stderr.write(`skipping the C tunnels: ${(e as Error).message}\n`);
  }

  // The step-by-step ladder: everything off, then one technique more at a time.
  const ladder: { label: string; arch: string }[] = [];
  const register = (disable: readonly string[], label: string): void => {
    const a = flannelUdpOffloadWithout(disable);
    if (!architectures.has(a.name)) architectures.register(a.name, a);
    ladder.push({ label, arch: a.name });
  };
  if (steps)
    TECHNIQUES.forEach((_, i) =>
      register(TECHNIQUES.slice(i), i === 0 ? 'udp-offload, all off' : `+ ${TECHNIQUES[i - 1]}`),
    );
  register([], steps ? `+ ${TECHNIQUES[TECHNIQUES.length - 1]} (all on)` : 'udp-offload, all on');
  if (without.length) register(without, `all but ${without.join(', ')}`);

  const all: Record<string, Sample>[] = [];
  for (let r = 0; r < rounds; r++) {
    const out: Record<string, Sample> = {};
    Object.assign(out, await inLab('flannel-vxlan', duration, false));
    Object.assign(
      out,
      await inLab('flannel-udp', duration, true, async () => {
        const extra: Record<string, Sample> = {
          host: await sample(nodeNetns(LAB, 'node1'), nodeNetns(LAB, 'node2'), '198.18.0.3', duration, false),
        };
        if (cTunnels)
          for (const t of Object.keys(C_TUNNELS) as CTunnel[])
            extra[t] = await withCTunnel(LAB, t, (n1, n2, ip) => sample(n1, n2, ip, duration, false));
        return extra;
      }),
    );
    for (const step of ladder) {
      if (!opts.json) process.stderr.write(`round ${r + 1}/${rounds}: ${step.label}\n`);
      Object.assign(out, await inLab(step.arch, duration, true));
    }
    all.push(out);
  }

  const names = Object.keys(all[0]!);
  const med = (n: string, k: keyof Sample): number | undefined => {
    const xs = all.map((r) => r[n]?.[k]).filter((x): x is number => x !== undefined);
    return xs.length ? median(xs) : undefined;
  };
  const vx = med('flannel-vxlan', 'one')!;
  const offload = med(flannelUdpOffloadWithout([]).name, 'one')!;
  const ratio = offload / vx;
  const result = {
    duration,
    rounds,
    gbps: Object.fromEntries(
      names.map((n) => [
        n,
        {
          one: med(n, 'one'),
          four: med(n, 'four'),
          perBusyCore: med(n, 'perCore'),
          syscallsPerMB: med(n, 'syscallsPerMB'),
          agentCpuPct: med(n, 'agentCpu'),
        },
      ]),
    ),
    ladder,
    offloadOverVxlan: ratio,
    targets: judge(TARGETS, { offloadOverVxlan: ratio }),
    samples: all,
  };
  if (opts.json) return void process.stdout.write(JSON.stringify(result, null, 2) + '\n');
  const label = (n: string): string => ladder.find((s) => s.arch === n)?.label ?? n;
  const f = (x: number | undefined, d = 2): string => (x === undefined ? '—' : x.toFixed(d));
  const out = [
    `TCP pod → pod across nodes, median of ${rounds} × ${duration} s (+1 s warm-up); agents' CPU and syscalls ` +
      `over both nodes, single stream`,
    '',
  ];
  out.push(
    `${'ROW'.padEnd(30)}${'1 STREAM'.padStart(9)}${'× VXLAN'.padStart(9)}${'4 STREAMS'.padStart(11)}` +
      `${'PER CORE'.padStart(10)}${'SYSCALLS/MB'.padStart(13)}${'AGENTS %CORE'.padStart(14)}`,
  );
  for (const n of names) {
    out.push(
      `${label(n).padEnd(30)}${f(med(n, 'one')).padStart(9)}${f(med(n, 'one')! / vx).padStart(9)}` +
        `${f(med(n, 'four')).padStart(11)}${f(med(n, 'perCore')).padStart(10)}` +
        `${f(med(n, 'syscallsPerMB'), 0).padStart(13)}${f(med(n, 'agentCpu'), 0).padStart(14)}`,
    );
  }
  out.push('', ...targetLines(result.targets));
  process.stdout.write(out.join('\n') + '\n');
}

main().catch(async (e: unknown) => {
  await down(LAB).catch(() => undefined);
  process.stderr.write(`bench: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
});
