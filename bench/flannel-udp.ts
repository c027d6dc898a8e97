/**
 * Benchmark: flannel-udp's user-space data path beside two user-space tunnels written in C, on
 * the same two nodes of one lab, in the same run: socat (TUN + UDP) and OpenVPN (--dev tun
 * --proto udp, no encryption). All three carry single-stream TCP through a TUN with MTU 1472 and
 * IP-in-UDP; flannel-vxlan (kernel) and host (no tunnel) make the user-space penalty a ratio.
 * Target: flannel-udp ≥ 1.2 × the faster of socat and OpenVPN.
 *
 *   npm run bench:flannel-udp -- [--duration S] [--rounds N] [--json]   (scripts/setup.sh --bench)
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { run, sleep, stopPid } from '../src/lib/exec';
import { down, up } from '../src/lab/lab';
import { nodeNetns } from '../src/lab/names';
import type { LabState } from '../src/lab/state';
import { parseTopology } from '../src/topology/load';
import { startIperf3Server, tcpSample } from '../src/traffic/iperf3/run';
import { arg, median, wantJson } from './common';

const LAB = 'bench-flannel-udp';
const MTU = '1472';
const topology = parseTopology('topology: {computeNodes: 2, defaults: {pods: 1}}', 'bench', { name: LAB });
const N1 = nodeNetns(LAB, 'node1');
const N2 = nodeNetns(LAB, 'node2');

async function measure(client: string, server: string, ip: string, duration: number): Promise<number> {
  const srv = startIperf3Server({ name: server }, ip, 5301);
  try {
    return (await tcpSample({ client: { name: client }, server: { name: server }, serverIp: ip, durationSec: duration, omitSec: 1, port: 5301 })).bitsPerSecond / 1e9;
  } finally {
    await srv.stop();
  }
}

/** Starts a tunnel process on each node, waits for its TUN, sets MTU 1472; returns their PIDs. */
async function tunnel(dev: string, argv: (n: 1 | 2) => string[]): Promise<number[]> {
  const pids = ([1, 2] as const).map((n) => spawn('ip', ['netns', 'exec', n === 1 ? N1 : N2, ...argv(n)], { stdio: 'ignore' }).pid!);
  for (const ns of [N1, N2]) {
    for (let i = 0; (await run('ip', ['-n', ns, 'link', 'show', dev], { check: false })).code !== 0; i++) {
      if (i > 100) throw new Error(`${dev} did not appear in ${ns}`);
      await sleep(50);
    }
    await run('ip', ['-n', ns, 'link', 'set', dev, 'mtu', MTU, 'up']);
  }
  return pids;
}

const tools = {
  socat: {
    dev: 'cs0',
    ip: '10.99.0.2',
    argv: (n: 1 | 2) => ['socat', `TUN:10.99.0.${n}/24,tun-type=tun,tun-name=cs0,iff-no-pi,up`, `UDP-DATAGRAM:198.18.0.${n === 1 ? 3 : 2}:9000,bind=198.18.0.${n + 1}:9000`],
  },
  openvpn: {
    dev: 'ov0',
    ip: '10.98.0.2',
    argv: (n: 1 | 2) => ['openvpn', '--dev', 'ov0', '--dev-type', 'tun', '--proto', 'udp', '--local', `198.18.0.${n + 1}`, '--remote', `198.18.0.${n === 1 ? 3 : 2}`, '--port', '1194', '--ifconfig', `10.98.0.${n}`, `10.98.0.${3 - n}`, '--tun-mtu', MTU, '--cipher', 'none', '--auth', 'none', '--disable-dco', '--verb', '0'],
  },
} as const;

async function round(duration: number): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  let state: LabState = await up({ topology, arch: 'flannel-udp' });
  try {
    const [a, b] = [state.pods.find((p) => p.node === 'node1')!, state.pods.find((p) => p.node === 'node2')!];
    out['flannel-udp'] = await measure(a.netns, b.netns, b.ip, duration);
    out.host = await measure(N1, N2, '198.18.0.3', duration);
    for (const [name, t] of Object.entries(tools)) {
      const pids = await tunnel(t.dev, t.argv);
      try {
        await sleep(1000); // OpenVPN's handshake
        out[name] = await measure(N1, N2, t.ip, duration);
      } finally {
        for (const pid of pids) await stopPid(pid);
      }
    }
  } finally {
    await down(LAB);
  }
  state = await up({ topology, arch: 'flannel-vxlan' });
  try {
    const [a, b] = [state.pods.find((p) => p.node === 'node1')!, state.pods.find((p) => p.node === 'node2')!];
    out['flannel-vxlan'] = await measure(a.netns, b.netns, b.ip, duration);
  } finally {
    await down(LAB);
  }
  return out;
}

async function main(): Promise<void> {
  for (const tool of ['socat', 'openvpn']) if (!existsSync(`/usr/bin/${tool}`) && !existsSync(`/usr/sbin/${tool}`)) throw new Error(`${tool} is not installed: run scripts/setup.sh --bench`);
  const duration = arg('duration', 5);
  const rounds = arg('rounds', 3);
  const all: Record<string, number>[] = [];
  for (let i = 0; i < rounds; i++) {
    all.push(await round(duration));
    if (!wantJson) process.stderr.write(`round ${i + 1}/${rounds}\n`);
  }
  const names = ['host', 'flannel-vxlan', 'flannel-udp', 'socat', 'openvpn'];
  const med = Object.fromEntries(names.map((n) => [n, median(all.map((r) => r[n]!))])) as Record<string, number>;
  const fasterC = Math.max(med.socat!, med.openvpn!);
  const ratio = med['flannel-udp']! / fasterC;
  const out = { duration, rounds, gbps: med, samples: all, udpOverFasterC: ratio, target: 1.2, met: ratio >= 1.2 };
  if (wantJson) return void process.stdout.write(JSON.stringify(out, null, 2) + '\n');
  process.stdout.write(`single-stream TCP node1 → node2, median of ${rounds} × ${duration} s (+1 s warm-up); tunnels with MTU ${MTU}\n`);
  for (const n of names) process.stdout.write(`  ${n.padEnd(14)}${med[n]!.toFixed(2).padStart(7)} Gbit/s  ${((med[n]! / med.host!) * 100).toFixed(1).padStart(5)}% of host\n`);
  process.stdout.write(`  flannel-udp / faster C tunnel (${med.socat! > med.openvpn! ? 'socat' : 'openvpn'}): ${ratio.toFixed(2)}×   target ≥ 1.2×: ${out.met ? 'met' : 'MISSED'}\n`);
}

main().catch(async (e: unknown) => {
  await down(LAB).catch(() => undefined);
  process.stderr.write(`bench: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
});
