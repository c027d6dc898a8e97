/**
 * Flannel's control plane under change, for real: nodes join and leave, agents crash and come
 * back while traffic flows, the lease store restarts — and the data path keeps up.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { run, sleep } from '../../src/lib/exec';
import { ipJson, listNamedNetns } from '../../src/lib/netns';
import { nodeDir } from '../../src/lab/processes';
import { labOfNetns, nodeNetns } from '../../src/lab/names';
import { joinNode, leaveNode, restartProcess } from '../../src/lab/nodes';
import { leases } from '../../src/flannel/control-plane';
import { readState, type LabState } from '../../src/lab/state';
import { longestGap, waitFor, withLab } from './helpers';

const TOPOLOGY = 'topology: {computeNodes: 2, defaults: {pods: 1}}';
const pod = (s: LabState, name: string) => s.pods.find((p) => p.name === name)!;

/** `count` pings 0.1 s apart (ping's default, 1 s, made 20 pings take 19 s). */
async function ping(from: string, to: string, count = 1): Promise<void> {
  await run('ip', ['netns', 'exec', from, 'ping', '-c', String(count), '-i', '0.1', '-W', '2', to]);
}

test('a join interrupted half-way (Ctrl-C) leaves no trace and the lab carries on; then a node joins and leaves: peers learn and forget it, nothing of it is left', async () => {
  const lab = 't-fl-join';
  await withLab(
    lab,
    'flannel-vxlan',
    async (built) => {
      const ac = new AbortController();
      const joining = joinNode(lab, 'node3', 1, ac.signal);
      await waitFor('node3 to have its namespace', () => listNamedNetns().includes(nodeNetns(lab, 'node3')));
      ac.abort();
      await assert.rejects(joining, (e: Error & { code?: string }) => e.code === 'ABORTED');
      assert.deepEqual(
        listNamedNetns().filter((ns) => ns.includes('node3')),
        [],
      );
      assert.deepEqual((await leases(lab)).map((l) => l.node).sort(), ['node1', 'node2']);
      const after = readState(lab)!;
      assert.deepEqual(
        after.topology.nodes.map((n) => n.name),
        ['control', 'node1', 'node2'],
      );
      assert.deepEqual(
        after.processes.map((p) => p.node),
        ['control', 'node1', 'node2'],
      );
      await ping(pod(built, 'node1-p1').netns, pod(built, 'node2-p1').ip);

      // The same node joins for real, in the lab the interrupted join left.
      const state = await joinNode(lab, 'node3', 1);
      const l3 = (await leases(lab)).find((l) => l.node === 'node3')!;
      assert.ok(l3, 'node3 holds a lease');
      const node1 = { name: nodeNetns(lab, 'node1') };
      const routes = await ipJson<{ dst: string }[]>(node1, ['route', 'show', 'dev', 'flannel.1']);
      assert.ok(
        routes.some((r) => r.dst === l3.subnet),
        `node1 routes ${l3.subnet} over flannel.1`,
      );
      await ping(pod(state, 'node1-p1').netns, pod(state, 'node3-p1').ip);
      await ping(pod(state, 'node3-p1').netns, pod(state, 'node2-p1').ip);

      await leaveNode(lab, 'node3');
      assert.deepEqual((await leases(lab)).map((l) => l.node).sort(), ['node1', 'node2']);
      await waitFor(
        'node1 to forget node3',
        () => !readFileSync(join(nodeDir(lab, 'node1'), 'agent.json'), 'utf8').includes('node3'),
        5000,
      );
      assert.equal(
        (await ipJson<{ dst: string }[]>(node1, ['route', 'show', 'dev', 'flannel.1'])).some(
          (r) => r.dst === l3.subnet,
        ),
        false,
        'route gone',
      );
      const fdb = JSON.parse(
        (await run('ip', ['netns', 'exec', node1.name, 'bridge', '-json', 'fdb', 'show', 'dev', 'flannel.1'])).stdout,
      ) as { dst?: string }[];
      assert.equal(
        fdb.some((e) => e.dst === l3.publicIp),
        false,
        'FDB entry gone',
      );
      assert.equal(
        listNamedNetns().some((ns) => labOfNetns(ns) === lab && ns.includes('node3')),
        false,
        'node3 namespaces gone',
      );
      await ping(pod(state, 'node1-p1').netns, pod(state, 'node2-p1').ip);
    },
    TOPOLOGY,
  );
});

for (const [arch, maxGapMs] of [
  ['flannel-host-gw', 300],
  ['flannel-vxlan', 300],
  ['flannel-udp', 1500],
  ['flannel-udp-offload', 1500],
] as const) {
  const title =
    `${arch}: the agent crashes (SIGKILL) and restarts under traffic; ` + `traffic stops for at most ${maxGapMs} ms`;
  test(title, async (t) => {
    const lab = `t-fl-restart-${arch.slice(8)}`;
    await withLab(
      lab,
      arch,
      async (state) => {
        const before = await leases(lab);
        const routesBefore = await ipJson<unknown[]>({ name: nodeNetns(lab, 'node1') }, ['route', 'show']);
        const { gapMs } = await longestGap(pod(state, 'node1-p1').netns, pod(state, 'node2-p1'), 4, async () => {
          await restartProcess(lab, 'node1', 'SIGKILL');
          await waitFor(
            'the new agent to sync',
            () =>
              existsSync(join(nodeDir(lab, 'node1'), 'agent.json')) &&
              JSON.parse(readFileSync(join(nodeDir(lab, 'node1'), 'agent.json'), 'utf8')).pid !==
                state.processes[1]!.pid,
            10_000,
          );
        });
        t.diagnostic(`longest gap without a reply: ${gapMs.toFixed(0)} ms`);
        assert.ok(gapMs <= maxGapMs, `longest gap ${gapMs.toFixed(0)} ms`);
        assert.deepEqual(
          (await leases(lab)).map((l) => [l.node, l.subnet, l.backendData]),
          before.map((l) => [l.node, l.subnet, l.backendData]),
          'same leases',
        );
        assert.deepEqual(
          await ipJson<unknown[]>({ name: nodeNetns(lab, 'node1') }, ['route', 'show']),
          routesBefore,
          'routes converged to the same set',
        );
      },
      TOPOLOGY,
    );
  });
}

test('the lease store restarts (SIGKILL) with every lease intact; agents carry on and see new nodes', async () => {
  const lab = 't-fl-store';
  await withLab(
    lab,
    'flannel-host-gw',
    async (state) => {
      const before = await leases(lab);
      await restartProcess(lab, 'control', 'SIGKILL');
      let after: typeof before | undefined;
      // until the new store listens
      for (let i = 0; i < 200 && !after; i++) after = await leases(lab).catch(() => sleep(50).then(() => undefined));
      assert.ok(after, 'the restarted store answers');
      assert.deepEqual(
        after.map((l) => [l.node, l.subnet, l.publicIp]),
        before.map((l) => [l.node, l.subnet, l.publicIp]),
      );
      await ping(pod(state, 'node1-p1').netns, pod(state, 'node2-p1').ip);
      const joined = await joinNode(lab, 'node3', 1);
      await ping(pod(joined, 'node1-p1').netns, pod(joined, 'node3-p1').ip);
    },
    TOPOLOGY,
  );
});

test('flannel-udp: the agent moves every packet itself, one read and one send each', async () => {
  const lab = 't-fl-udp-count';
  await withLab(
    lab,
    'flannel-udp',
    async (state) => {
      await ping(pod(state, 'node1-p1').netns, pod(state, 'node2-p1').ip, 20);
      const counters = (): Record<string, number> => {
        try {
          return JSON.parse(readFileSync(join(nodeDir(lab, 'node1'), 'datapath.json'), 'utf8')) as Record<
            string,
            number
          >;
        } catch {
          return {}; // not written yet
        }
      };
      await waitFor(
        'the agent to write its counters (once a second)',
        () => counters().packetsOut! >= 20 && counters().packetsIn! >= 20,
        10_000,
      );
      const stats = counters();
      assert.ok(stats.packetsOut! >= 20 && stats.packetsIn! >= 20, JSON.stringify(stats));
      assert.equal(stats.tunReads! - stats.dropped!, stats.udpSends, 'one sendto per packet read from the TUN');
      assert.equal(stats.udpReceives, stats.tunWrites, 'one TUN write per datagram received');
      const [tun] = await ipJson<{ mtu: number; linkinfo: { info_kind: string } }[]>(
        { name: nodeNetns(lab, 'node1') },
        ['-d', 'link', 'show', 'flannel0'],
      );
      assert.deepEqual([tun!.linkinfo.info_kind, tun!.mtu], ['tun', 1472]);
      assert.ok(state.pods.every((p) => p.mtu === 1472));
    },
    TOPOLOGY,
  );
});
