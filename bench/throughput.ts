/**
 * Benchmark: each architecture's TCP throughput as % of `host`, and cnilab's measurement beside
 * the same iperf3 command run by hand in the same lab, alternating, so any overhead cnilab adds to
 * the kernel paths shows as a ratio away from 1.
 *
 *   npm run bench:throughput -- [--duration S] [--rounds N] [--json]
 */
import { run } from '../src/lib/exec';
import { architectures, defaultArchitectures } from '../src/arch';
import { down, up } from '../src/lab/lab';
import { nodeNetns } from '../src/lab/names';
import type { LabState } from '../src/lab/state';
import { parseTopology } from '../src/topology/load';
import { probeFeatures, missingReason } from '../src/doctor/features';
import { parseIperf3Json } from '../src/traffic/iperf3/parse';
import { startIperf3Server, tcpSample } from '../src/traffic/iperf3/run';
import { table } from '../src/cli/output';
import { median } from '../src/run/stats';
import { benchArgs, count, seconds } from './args';

const LAB = 'bench-throughput';
const opts = benchArgs('npm run bench:throughput -- [--duration S] [--rounds N] [--json]', {
  duration: seconds(3),
  rounds: count(3),
});

interface Row {
  arch: string;
  path: string;
  cnilabGbps: number;
  byHandGbps: number;
}

async function measure(
  state: LabState,
  arch: string,
  path: 'intra-node' | 'inter-node',
  duration: number,
  rounds: number,
): Promise<Row> {
  const isHost = arch === 'host';
  const client = isHost ? nodeNetns(LAB, 'node1') : state.pods.find((p) => p.name === 'node1-p1')!.netns;
  const serverPod = isHost
    ? undefined
    : state.pods.find((p) => p.name === (path === 'intra-node' ? 'node1-p2' : 'node2-p1'))!;
  const server = isHost ? nodeNetns(LAB, 'node2') : serverPod!.netns;
  const ip = isHost ? '198.18.0.3' : serverPod!.ip;
  const srv = startIperf3Server({ name: server }, ip);
  const ours: number[] = [];
  const hand: number[] = [];
  try {
    for (let i = 0; i < rounds; i++) {
      ours.push(
        (await tcpSample({ client: { name: client }, serverIp: ip, durationSec: duration, omitSec: 1 })).bitsPerSecond /
          1e9,
      );
      // By hand: the command a user would type, nothing of cnilab's in between.
      const r = await run('ip', ['netns', 'exec', client, 'iperf3', '-c', ip, '-t', String(duration), '-O', '1', '-J']);
      hand.push(parseIperf3Json(r.stdout).bitsPerSecond / 1e9);
    }
  } finally {
    await srv.stop();
  }
  return { arch, path, cnilabGbps: median(ours), byHandGbps: median(hand) };
}

async function main(): Promise<void> {
  const { duration, rounds } = opts;
  const features = await probeFeatures();
  const topology = parseTopology('topology: {computeNodes: 2}', 'bench', { name: LAB });
  const rows: Row[] = [];
  const skipped: string[] = [];
  for (const name of defaultArchitectures()) {
    const arch = architectures.get(name);
    const missing = missingReason(features, arch.requires);
    if (missing) {
      skipped.push(`${name}: ${missing}`);
      continue;
    }
    if (!opts.json) process.stderr.write(`${name}…\n`);
    const state = await up({ topology, arch: name, features });
    try {
      for (const path of ['intra-node', 'inter-node'] as const) {
        if (arch.unsupported?.[path]) continue;
        rows.push(await measure(state, name, path, duration, rounds));
      }
    } finally {
      await down(LAB);
    }
  }
  const host = rows.find((r) => r.arch === 'host')!.cnilabGbps;
  const out = rows.map((r) => ({
    ...r,
    ofHostPct: (r.cnilabGbps / host) * 100,
    cnilabOverByHand: r.cnilabGbps / r.byHandGbps,
  }));
  if (opts.json)
    return void process.stdout.write(JSON.stringify({ duration, rounds, rows: out, skipped }, null, 2) + '\n');
  process.stdout.write(
    `TCP throughput, 1 stream, median of ${rounds} × ${duration} s (+1 s warm-up), cnilab and by hand alternating\n`,
  );
  const rowsOut = out.map((r) => [
    r.arch,
    r.path,
    r.cnilabGbps.toFixed(2),
    r.byHandGbps.toFixed(2),
    r.cnilabOverByHand.toFixed(2),
    `${r.ofHostPct.toFixed(0)}%`,
  ]);
  process.stdout.write(table(['ARCH', 'PATH', 'CNILAB', 'BY HAND', 'RATIO', 'OF HOST'], rowsOut, [2, 3, 4, 5]) + '\n');
  for (const s of skipped) process.stdout.write(`skipped ${s}\n`);
}

main().catch(async (e: unknown) => {
  await down(LAB).catch(() => undefined);
  process.stderr.write(`bench: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
});
