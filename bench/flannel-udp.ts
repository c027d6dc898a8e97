/**
 * Benchmark: flannel-udp's user-space data path beside two user-space tunnels written in C, on
 * the same two nodes of one lab, in the same run: socat (TUN + UDP) and OpenVPN (--dev tun
 * --proto udp, no encryption). All three carry single-stream TCP through a TUN with MTU 1472 and
 * IP-in-UDP; flannel-vxlan (kernel) and host (no tunnel) make the user-space penalty a ratio.
 * Target: flannel-udp ≥ 1.2 × the faster of socat and OpenVPN.
 *
 *   npm run bench:flannel-udp -- [--duration S] [--rounds N] [--json]   (scripts/setup.sh --bench)
 */
import { down, up } from '../src/lab/lab';
import { nodeNetns } from '../src/lab/names';
import type { LabState } from '../src/lab/state';
import { parseTopology } from '../src/topology/load';
import { median } from '../src/run/stats';
import { benchArgs, count, seconds } from './args';
import { judge, targetLines, type Target } from './targets';
import { assertCTunnelsInstalled, C_TUNNELS, measureTcp, TUNNEL_MTU, withCTunnel, type CTunnel } from './tunnels';

const LAB = 'bench-flannel-udp';
const opts = benchArgs('npm run bench:flannel-udp -- [--duration S] [--rounds N] [--json]', {
  duration: seconds(5),
  rounds: count(3),
});
const TARGETS: readonly Target[] = [
  {
    name: 'flannel-udp / the faster C tunnel (socat, OpenVPN)',
    figure: 'udpOverFasterC',
    direction: 'at least',
    threshold: 1.2,
    unit: '×',
    why:
      "the issue's bar for the per-packet user-space design in TypeScript: ahead of C tunnels of the same " +
      'design (docs/flannel.md)',
  },
];
const topology = parseTopology('topology: {computeNodes: 2, defaults: {pods: 1}}', 'bench', { name: LAB });
const N1 = nodeNetns(LAB, 'node1');
const N2 = nodeNetns(LAB, 'node2');

const measure = async (client: string, server: string, ip: string, duration: number): Promise<number> =>
  (await measureTcp(client, server, ip, duration)).bitsPerSecond / 1e9;

async function round(duration: number): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  let state: LabState = await up({ topology, arch: 'flannel-udp' });
  try {
    const [a, b] = [state.pods.find((p) => p.node === 'node1')!, state.pods.find((p) => p.node === 'node2')!];
    out['flannel-udp'] = await measure(a.netns, b.netns, b.ip, duration);
    out.host = await measure(N1, N2, '198.18.0.3', duration);
    for (const name of Object.keys(C_TUNNELS) as CTunnel[])
      out[name] = await withCTunnel(LAB, name, (n1, n2, ip) => measure(n1, n2, ip, duration));
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
  assertCTunnelsInstalled();
  const { duration, rounds } = opts;
  const all: Record<string, number>[] = [];
  for (let i = 0; i < rounds; i++) {
    all.push(await round(duration));
    if (!opts.json) process.stderr.write(`round ${i + 1}/${rounds}\n`);
  }
  const names = ['host', 'flannel-vxlan', 'flannel-udp', 'socat', 'openvpn'];
  const med = Object.fromEntries(names.map((n) => [n, median(all.map((r) => r[n]!))])) as Record<string, number>;
  const fasterC = Math.max(med.socat!, med.openvpn!);
  const ratio = med['flannel-udp']! / fasterC;
  const targets = judge(TARGETS, { udpOverFasterC: ratio });
  const out = { duration, rounds, gbps: med, samples: all, udpOverFasterC: ratio, targets };
  if (opts.json) return void process.stdout.write(JSON.stringify(out, null, 2) + '\n');
  process.stdout.write(
    `single-stream TCP node1 → node2, median of ${rounds} × ${duration} s (+1 s warm-up); tunnels with ` +
      `MTU ${TUNNEL_MTU}\n`,
  );
  for (const n of names)
    process.stdout.write(
      `  ${n.padEnd(14)}${med[n]!.toFixed(2).padStart(7)} Gbit/s ` +
        ` ${((med[n]! / med.host!) * 100).toFixed(1).padStart(5)}% of host\n`,
    );
  process.stdout.write(
    [`  the faster C tunnel: ${med.socat! > med.openvpn! ? 'socat' : 'openvpn'}`, ...targetLines(targets)].join('\n') +
      '\n',
  );
}

main().catch(async (e: unknown) => {
  await down(LAB).catch(() => undefined);
  process.stderr.write(`bench: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
});
