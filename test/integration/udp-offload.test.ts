/**
 * The udp-offload backend, correctness before speed: TCP without retransmits, bytes arriving
 * intact, UDP and ICMP (the packet-by-packet paths), mixed flows, and a peer running the faithful
 * udp backend on the other end.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { run, startDaemon, stopPid } from '../../src/lib/exec';
import { AGENT_MAIN } from '../../src/lib/paths';
import { credentialFile } from '../../src/lab/credentials';
import { labEnv, nodeDir, CONTROLLER_PORT } from '../../src/lab/processes';
import { nodeNetns, runDir } from '../../src/lab/names';
import { restartProcess } from '../../src/lab/nodes';
import { leases } from '../../src/flannel/control-plane';
import type { LabState } from '../../src/lab/state';
import { startIperf3Server, tcpSample } from '../../src/traffic/iperf3/run';
import { transfer, untilConnected, untilListening, waitFor, withLab } from './helpers';

const TOPOLOGY = 'topology: {computeNodes: 2, defaults: {pods: 1}}';
const PROBE = join(__dirname, 'probe.js');
const pod = (s: LabState, node: string) => s.pods.find((p) => p.node === node)!;
const stats = (lab: string, node: string): Record<string, number> =>
  JSON.parse(readFileSync(join(nodeDir(lab, node), 'datapath.json'), 'utf8')) as Record<string, number>;

/**
 * TCP for `seconds`; asserts near-zero retransmits (under 1 in 1,000 segments) unless `lossy`.
 * Not zero: now and then a super-packet arrives behind the next one and TCP retransmits it
 * spuriously (D-SACKed) — veth paths on a 2-CPU VM reorder, the kernel-only ones more often.
 */
async function tcp(
  from: LabState['pods'][number],
  to: LabState['pods'][number],
  seconds: number,
  streams = 1,
  lossy = false,
): Promise<{ gbps: number; retransmits: number }> {
  const srv = startIperf3Server({ name: to.netns }, to.ip, 5301);
  try {
    const s = await tcpSample({
      client: { name: from.netns },
      serverIp: to.ip,
      durationSec: seconds,
      omitSec: 0,
      streams,
      port: 5301,
    });
    const segments = (s.bitsPerSecond * seconds) / 8 / 1448;
    assert.ok(s.bitsPerSecond > 1e6, `TCP moved ${s.bitsPerSecond} bit/s`);
    if (!lossy)
      assert.ok(
        s.retransmits <= segments / 1000,
        `${s.retransmits} retransmits in about ${Math.round(segments)} segments`,
      );
    return { gbps: s.bitsPerSecond / 1e9, retransmits: s.retransmits };
  } finally {
    await srv.stop();
  }
}

async function ping(from: string, to: string, size: number): Promise<void> {
  await run('ip', ['netns', 'exec', from, 'ping', '-c', '3', '-i', '0.2', '-W', '2', '-s', String(size), to]);
}

async function udpLossPct(from: LabState['pods'][number], to: LabState['pods'][number]): Promise<number> {
  const srv = startIperf3Server({ name: to.netns }, to.ip, 5302);
  try {
    await untilListening(to.netns, 5302);
    const r = await run('ip', [
      'netns',
      'exec',
      from.netns,
      'iperf3',
      '-u',
      '-c',
      to.ip,
      '-p',
      '5302',
      '-b',
      '50M',
      '-l',
      '1400',
      '-t',
      '1',
      '-J',
    ]);
    return (JSON.parse(r.stdout) as { end: { sum: { lost_percent: number } } }).end.sum.lost_percent;
  } finally {
    await srv.stop();
  }
}

test("flannel-udp-offload: TCP through super-packets without retransmits, 64 MB intact, UDP and ICMP, mixed flows; a TCP stream survives its sender's agent crashing (SIGKILL) and restarting", async (t) => {
  const lab = 't-uo-data';
  await withLab(
    lab,
    'flannel-udp-offload',
    async (state) => {
      const [a, b] = [pod(state, 'node1'), pod(state, 'node2')];
      const one = await tcp(a, b, 2);
      const s1 = stats(lab, 'node1');
      const s2 = stats(lab, 'node2');
      t.diagnostic(
        `1 stream: ${one.gbps.toFixed(2)} Gbit/s, ${one.retransmits} retransmits; ` +
          `node1 ${s1.packetsOut} datagrams from ${s1.superPacketsRead} ` +
          `super-packets, node2 ${s2.superPacketsWritten} super-packets written`,
      );
      assert.ok(
        s1.superPacketsRead! > 0 && s1.packetsOut! > 5 * s1.tunReads!,
        `the sender read super-packets and cut them: ${JSON.stringify(s1)}`,
      );
      assert.ok(s1.packetsOut! > 10 * s1.udpSends!, 'one sendmsg carried many datagrams (UDP GSO)');
      assert.ok(
        s2.superPacketsWritten! > 0 && s2.packetsIn! > 5 * s2.tunWrites!,
        `the receiver wrote coalesced super-packets: ${JSON.stringify(s2)}`,
      );
      await tcp(b, a, 1); // and the other way

      await transfer(a, b, 64);

      await ping(a.netns, b.ip, 56);
      await ping(a.netns, b.ip, 1444); // a full-MTU packet
      await ping(b.netns, a.ip, 4000); // fragments: not TCP, each written as it came
      const loss = await udpLossPct(a, b);
      // A rate a loaded 2-core machine still carries through the user-space proxy (200 Mbit/s lost 6%
      // while other work ran): what is tested is that datagrams pass one by one, not how fast.
      t.diagnostic(`UDP at 50 Mbit/s, 1400-byte datagrams: ${loss.toFixed(2)}% lost`);
      assert.ok(loss < 2, `UDP loss ${loss}%`);

      // Mixed: four TCP streams and a UDP echo probe at once.
      const echo = spawn('ip', ['netns', 'exec', b.netns, process.execPath, PROBE, 'server', b.ip, '7777'], {
        stdio: 'ignore',
      });
      try {
        await untilListening(b.netns, 7777, 'udp');
        const probing = run('ip', ['netns', 'exec', a.netns, process.execPath, PROBE, 'client', b.ip, '7777', '2']);
        const four = await tcp(a, b, 2, 4);
        const p = JSON.parse((await probing).stdout) as { sent: number; received: number };
        t.diagnostic(`4 streams: ${four.gbps.toFixed(2)} Gbit/s; probe ${p.received}/${p.sent} answered`);
        assert.ok(p.received >= p.sent * 0.9, `UDP probe beside 4 TCP streams: ${JSON.stringify(p)}`);
      } finally {
        if (echo.pid) await stopPid(echo.pid);
      }

      // A TCP stream survives its sender's agent crashing (SIGKILL) and restarting.
      const srv = startIperf3Server({ name: b.netns }, b.ip, 5303);
      try {
        await untilListening(b.netns, 5303);
        const client = run('ip', ['netns', 'exec', a.netns, 'iperf3', '-c', b.ip, '-p', '5303', '-t', '5', '-J'], {
          timeoutMs: 30_000,
        });
        await untilConnected(a.netns, 5303, 2); // iperf3's control connection and its data stream: the stream flows
        const old = state.processes.find((p) => p.role === 'agent' && p.node === 'node1')!.pid;
        await restartProcess(lab, 'node1', 'SIGKILL');
        await waitFor(
          'the new agent to sync',
          () =>
            (JSON.parse(readFileSync(join(nodeDir(lab, 'node1'), 'agent.json'), 'utf8')) as { pid: number }).pid !==
            old,
          10_000,
        );
        const r = JSON.parse((await client).stdout) as {
          intervals: { sum: { bits_per_second: number } }[];
          end: { sum_received: { bytes: number } };
        };
        const rates = r.intervals.map((i) => i.sum.bits_per_second / 1e9);
        t.diagnostic(`Gbit/s per second: ${rates.map((x) => x.toFixed(2)).join(' ')}`);
        assert.ok(rates.at(-1)! > 0.1, 'the stream carries on after the restart');
        assert.ok(stats(lab, 'node1').superPacketsRead! > 0, 'the new agent cuts super-packets again');
      } finally {
        await srv.stop();
      }
    },
    TOPOLOGY,
  );
});

test('a node on the faithful udp backend and one on udp-offload carry traffic both ways', async (t) => {
  const lab = 't-uo-interop';
  await withLab(
    lab,
    'flannel-udp-offload',
    async (state) => {
      // node2's agent is replaced by one running the per-packet udp backend on the same network.
      const old = state.processes.find((p) => p.role === 'agent' && p.node === 'node2')!;
      await stopPid(old.pid);
      const control = state.topology.nodes.find((n) => n.role === 'control')!;
      startDaemon(
        'ip',
        [
          'netns',
          'exec',
          nodeNetns(lab, 'node2'),
          process.execPath,
          AGENT_MAIN,
          '--store',
          `http://${control.underlayIp}:${CONTROLLER_PORT}`,
          '--node',
          'node2',
          '--run-dir',
          nodeDir(lab, 'node2'),
          '--backend',
          'udp',
          '--credential',
          credentialFile(lab, 'node2'),
        ],
        join(runDir(lab), 'logs', 'agent-node2-udp.log'),
        labEnv(),
      );
      await waitFor(
        'node2 on the udp backend',
        () =>
          (JSON.parse(readFileSync(join(nodeDir(lab, 'node2'), 'agent.json'), 'utf8')) as { pid: number }).pid !==
          old.pid,
        10_000,
      );
      const held = (await leases(lab)).map((l) => `${l.node} ${l.backendType}`).sort();
      assert.deepEqual(held, ['node1 udp-offload', 'node2 udp'], 'the store accepts the wire-compatible backend');
      const [a, b] = [pod(state, 'node1'), pod(state, 'node2')];
      await ping(a.netns, b.ip, 56);
      // The per-packet receiver cannot keep up with 44-datagram bursts: its socket buffer overflows
      // and TCP backs off (retransmits), as it would behind any slower hop.
      const ab = await tcp(a, b, 2, 1, true);
      const ba = await tcp(b, a, 2, 1, true);
      t.diagnostic(
        `offload → udp ${ab.gbps.toFixed(2)} Gbit/s (${ab.retransmits} retransmits), udp → ` +
          `offload ${ba.gbps.toFixed(2)} ` +
          `Gbit/s (${ba.retransmits} retransmits)`,
      );
      await transfer(a, b, 16);
      await transfer(b, a, 16);
      const s2 = stats(lab, 'node2');
      assert.equal(s2.superPacketsRead, undefined, 'node2 runs the faithful proxy');
      assert.ok(stats(lab, 'node1').superPacketsRead! > 0, 'node1 still cuts super-packets');
    },
    TOPOLOGY,
  );
});
