/**
 * Where the cycles go, for bench/ebpf.ts: TCP inter-node in a lab of each architecture, the
 * samples alternating between them, each under `perf record -a` (the cpu-clock software event:
 * no hardware counters are needed, so it works in a VM). Every CPU sample's kernel symbol goes into
 * one area — the bridge, IP routing and forwarding, the eBPF programs and their helpers, copies
 * to and from user space, TCP and sockets, devices and buffers, the hypervisor, idle, user space —
 * and each area is reported in core-milliseconds per Gbit moved (each sample weighs its period).
 * Symbols are sorted into areas by name (AREAS): an approximation, said as such in the output.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run, sleep, startServer, stopPid } from '../src/lib/exec';
import { down, up } from '../src/lab/lab';
import type { LabState } from '../src/lab/state';
import { startIperf3Server, tcpSample } from '../src/traffic/iperf3/run';
import { parseTopology } from '../src/topology/load';
import { median } from '../src/run/stats';

/** Areas of the kernel, by symbol name; the first that matches wins. */
export const AREAS: readonly (readonly [string, RegExp])[] = [
  ['idle', /safe_halt|default_idle|cpuidle|do_idle|poll_idle|acpi_idle/],
  ['hypervisor', /pvm_|pvclock|kvm_|xen_|hypercall/],
  ['bridge', /^br_|fdb_|^nbp_/],
  ['ip routing', /^fib_|ip_forward|ip_route|ip_rcv_finish|ip_finish_output|ip_output|^neigh_|^nf_hook|^dst_/],
  ['ebpf', /bpf|lookup_nulls_elem|htab_|tcf_|tc_run|skb_do_redirect|sch_handle_|tcx_/],
  ['copy', /copy_(to|from)_iter|copy_user|memcpy|memmove|check_object_size/],
  ['tcp, sockets', /^_*tcp_|^_*inet_|^_*sk_|^_*sock_|^_*ip_queue_xmit|^_*ip_local/],
  ['devices, buffers', /veth|^_*dev_|^_*netif_|napi|gro_|^_*skb_|kfree|kmalloc|kmem_|page_frag|alloc_skb/],
];

export interface Profile {
  readonly arch: string;
  readonly gbps: number;
  /**
   * Core-milliseconds per Gbit moved, per area; idle left out. The CPU time is every CPU's while
   * perf recorded (iperf3's connect and the labs' idle agents included, the same for each
   * architecture), the Gbit what the client sent.
   */
  readonly msPerGbit: Record<string, number>;
}

const HZ = 999;

/** Kernel text lives in the top half of the address space (modules' symbols included: bridge, veth, vxlan). */
const KERNEL_TEXT = 0xffff800000000000n;

/** The area of one `perf script -F period,ip,sym,dso` line, with its period (ns of cpu-clock). */
export function areaOf(line: string): { area: string; ns: number } | undefined {
  const m = /^\s*(\d+)\s+([0-9a-f]+)\s+(\S+)\s+\((.*)\)\s*$/.exec(line);
  if (!m) return undefined;
  const [, period, ip, sym] = m;
  const ns = Number(period);
  if (BigInt(`0x${ip!}`) < KERNEL_TEXT) return { area: 'user space', ns };
  return { area: AREAS.find(([, re]) => re.test(sym!))?.[0] ?? 'other kernel', ns };
}

interface Taken {
  /** Bits the iperf3 client sent. */
  readonly bits: number;
  readonly gbps: number;
  /** CPU time per area over every CPU while perf recorded, in ns. */
  readonly areas: Map<string, number>;
}

/** One TCP sample node1 → node2 under `perf record -a`; perf runs just around the client. */
async function profiledSample(
  state: LabState,
  data: string,
  durationSec: number,
  signal?: AbortSignal,
): Promise<Taken> {
  const client = state.pods.find((p) => p.node === 'node1')!;
  const server = state.pods.find((p) => p.node === 'node2')!;
  const srv = startIperf3Server({ name: server.netns }, server.ip);
  let perf: { pid: number } | undefined;
  try {
    perf = startServer('perf', ['record', '-a', '-e', 'cpu-clock', '-F', String(HZ), '--no-buildid', '-q', '-o', data]);
    // perf creates its file as it starts recording: polled for at most 5 s.
    for (let i = 0; i < 500 && !existsSync(data); i++) await sleep(10, signal);
    if (!existsSync(data)) throw new Error('perf record did not start (is perf installed? scripts/setup.sh --bench)');
    const s = await tcpSample({
      client: { name: client.netns },
      serverIp: server.ip,
      durationSec,
      affinity: '0,1',
      signal,
    });
    await stopPid(perf.pid, 10_000);
    perf = undefined;
    const out = await run('perf', ['script', '-i', data, '-F', 'period,ip,sym,dso'], { signal });
    const areas = new Map<string, number>();
    for (const line of out.stdout.split('\n')) {
      const a = areaOf(line);
      if (a) areas.set(a.area, (areas.get(a.area) ?? 0) + a.ns);
    }
    return { bits: s.bytes * 8, gbps: s.bitsPerSecond / 1e9, areas };
  } finally {
    if (perf) await stopPid(perf.pid, 10_000);
    await srv.stop();
  }
}

/**
 * A lab to profile: an architecture, or (bench/newer-kernels.ts) an architecture with topology
 * settings of its own — `label` names it in the profile, `topology` adds YAML keys to the
 * topology's (e.g. `bigTcp: true`).
 */
export type Profiled = string | { readonly label: string; readonly arch: string; readonly topology?: string };

/** Labs of each architecture up at once; `rounds` profiled samples of each, alternating; then down (on abort too). */
export async function profile(
  archs: readonly Profiled[],
  rounds: number,
  durationSec: number,
  signal?: AbortSignal,
): Promise<Profile[]> {
  const labs = archs.map((a, i) => ({
    ...(typeof a === 'string' ? { label: a, arch: a, topology: undefined } : a),
    lab: `bench-ebpf-perf${i}`,
  }));
  const dir = mkdtempSync(join(tmpdir(), 'cnilab-bench-perf-'));
  const topology = (name: string, extra = '') =>
    parseTopology(`topology: {computeNodes: 2, defaults: {pods: 1}${extra ? `, ${extra}` : ''}}`, 'bench', { name });
  try {
    const states = new Map<string, LabState>();
    for (const l of labs) {
      signal?.throwIfAborted();
      states.set(l.lab, await up({ topology: topology(l.lab, l.topology), arch: l.arch }));
    }
    const taken = new Map<string, Taken[]>();
    for (let r = 0; r < rounds; r++)
      for (const l of labs) {
        signal?.throwIfAborted();
        const s = await profiledSample(states.get(l.lab)!, join(dir, `${l.lab}-${r}.data`), durationSec, signal);
        taken.set(l.label, [...(taken.get(l.label) ?? []), s]);
      }
    return labs.map(({ label }) => {
      const xs = taken.get(label)!;
      const gbit = xs.reduce((n, x) => n + x.bits, 0) / 1e9;
      const total = new Map<string, number>();
      for (const x of xs) for (const [a, ns] of x.areas) total.set(a, (total.get(a) ?? 0) + ns);
      total.delete('idle');
      const msPerGbit = Object.fromEntries([...total].map(([a, ns]) => [a, Math.round(ns / 1e4 / gbit) / 100]));
      return { arch: label, gbps: median(xs.map((x) => x.gbps)), msPerGbit };
    });
  } finally {
    for (const l of labs) await down(l.lab);
    rmSync(dir, { recursive: true, force: true });
  }
}
