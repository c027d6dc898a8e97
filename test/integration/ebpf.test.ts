/**
 * The ebpf architectures in a lab: traffic on every path, carried by the programs (their counters
 * move, the nodes' IP forwarding does not), the endpoint map in step with the pods, the agent's
 * crash and restart under traffic (pins reused, no gap worth the name), and nothing left after
 * `down`, or after a crash and `down --all` — the lab's bpffs and its pins included (doctor names them);
 * in `cnilab run`, the programs' counters as the kind's meters (ControlPlane.meters).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BpfMap } from '../../src/lib/bpf';
import { run } from '../../src/lib/exec';
import { deleteNetns } from '../../src/lib/netns';
import { mountsUnder } from '../../src/lib/mounts';
import { withRtnl } from '../../src/lib/netlink/rtnl';
import { listFilters } from '../../src/lib/netlink/tc';
import { nodeNetns, runDir } from '../../src/lab/names';
import { restartProcess } from '../../src/lab/nodes';
import { readState, type LabState } from '../../src/lab/state';
import { pins, readCounters, readEndpoints, type Counters } from '../../src/cni/plugins/ebpf/maps';
import { nodeBpfDir } from '../../src/ebpf/control-plane';
import { publishedResultsSchema } from '../../src/run/results-published';
import {
  assertNothingLeft,
  cli,
  crashThenDownAll,
  longestGap,
  rootSnapshot,
  waitFor,
  withLab,
  transfer,
  WAIT_SCALE,
} from './helpers';
import { findLeftovers } from '../../src/doctor/leftovers';
import { KERNEL_TIER } from './kernel';
import { ebpfTest } from './ebpf-skip';

const TOPOLOGY = 'topology: {computeNodes: 2, defaults: {pods: 2}}';
const pod = (s: LabState, name: string): LabState['pods'][number] => s.pods.find((p) => p.name === name)!;
const counters = (lab: string, node: string): Counters => readCounters(pins(nodeBpfDir(lab, node)).counters);

/** The node namespace's count of packets its IP stack forwarded (/proc/net/snmp, Ip: ForwDatagrams). */
async function forwarded(lab: string, node: string): Promise<number> {
  const snmp = (await run('ip', ['netns', 'exec', nodeNetns(lab, node), 'cat', '/proc/net/snmp'])).stdout.split('\n');
  const [names, values] = snmp.filter((l) => l.startsWith('Ip: '));
  const i = names!.split(' ').indexOf('ForwDatagrams');
  return Number(values!.split(' ')[i]);
}

/** The filters on a device's tc ingress in a node, by program name and ID. */
function ingress(lab: string, node: string, dev: string): { name?: string; progId?: number }[] {
  return withRtnl({ name: nodeNetns(lab, node) }, (nl) =>
    listFilters(nl, nl.index(dev), 'ingress').map((f) => ({ name: f.name, progId: f.progId })),
  );
}

for (const arch of ['ebpf-native', 'ebpf-vxlan'] as const) {
  ebpfTest(
    `${arch}: pod to pod on one node and across nodes, carried by the programs — their counters move, the nodes' ` +
      `IP forwarding stays still`,
    async (t) => {
      const lab = `t-${arch}`;
      await withLab(
        lab,
        arch,
        async (state) => {
          const [a, b, c] = [pod(state, 'node1-p1'), pod(state, 'node1-p2'), pod(state, 'node2-p1')];
          assert.ok(
            mountsUnder(runDir(lab)).some((m) => m.fsType === 'bpf'),
            'the lab mounted its own bpffs',
          );
          assert.deepEqual(
            ingress(lab, 'node1', 'eth0').map((f) => f.name),
            ['from_netdev'],
            'from_netdev on the underlay',
          );
          if (arch === 'ebpf-vxlan')
            assert.deepEqual(
              ingress(lab, 'node1', 'flannel.1').map((f) => f.name),
              ['from_tunnel'],
            );
          const eps = BpfMap.with(pins(nodeBpfDir(lab, 'node1')).endpoints, readEndpoints);
          assert.deepEqual([...eps.keys()].sort(), [a.ip, b.ip].sort(), "node1's endpoints are its pods");

          const fwd = { node1: await forwarded(lab, 'node1'), node2: await forwarded(lab, 'node2') };
          const before = { node1: counters(lab, 'node1'), node2: counters(lab, 'node2') };
          await transfer(a, b, 16); // one node
          const mid = counters(lab, 'node1');
          // bytes, not packets: a packet here is a GSO super-packet of up to 64 KB
          const MB16 = 16 << 20;
          const local = mid.from_pod.redirect_peer.bytes - before.node1.from_pod.redirect_peer.bytes;
          assert.ok(local > MB16, `from_pod handed ${local} bytes to the local pod`);
          await transfer(a, c, 16); // across nodes
          const after = { node1: counters(lab, 'node1'), node2: counters(lab, 'node2') };
          const out =
            after.node1.from_pod.redirect.bytes +
            after.node1.from_pod.redirect_neigh.bytes -
            mid.from_pod.redirect.bytes -
            mid.from_pod.redirect_neigh.bytes;
          const hook = arch === 'ebpf-native' ? 'from_netdev' : 'from_tunnel';
          const inbound = after.node2[hook].redirect_peer.bytes - before.node2[hook].redirect_peer.bytes;
          t.diagnostic(
            `bytes — one node: ${local} to the peer; across: ${out} out of node1, ${inbound} into the pod on node2`,
          );
          assert.ok(out > MB16, `from_pod on node1 sent ${out} bytes to the route's device`);
          assert.ok(inbound > MB16, `${hook} on node2 handed ${inbound} bytes to the pod`);
          assert.equal(after.node1.from_pod.drop.packets, 0, 'nothing dropped');
          // A packet the stack forwards counts in ForwDatagrams: the programs' packets never do.
          const moved = {
            node1: (await forwarded(lab, 'node1')) - fwd.node1,
            node2: (await forwarded(lab, 'node2')) - fwd.node2,
          };
          assert.ok(moved.node1 < 50 && moved.node2 < 50, `the nodes forwarded ${JSON.stringify(moved)} packets`);
        },
        TOPOLOGY,
      );
      assert.equal(existsSync(runDir(lab)), false);
      assert.deepEqual(mountsUnder(runDir(lab)), [], 'the bpffs went with the lab, its pins with it');
    },
  );
}

ebpfTest(
  'ebpf-native: the agent crashes (SIGKILL) and restarts under traffic: pins reused, programs unchanged, no gap; ' +
    'an endpoint whose pod vanished is swept',
  async (t) => {
    const lab = 't-ebpf-restart';
    await withLab(
      lab,
      'ebpf-native',
      async (state) => {
        const progs = ingress(lab, 'node1', 'eth0');
        let restarted: Awaited<ReturnType<typeof restartProcess>> | undefined;
        // The probe outlasts the restart: 3 s here, 15 s in the kernel tier's emulated VM.
        const seconds = 3 * WAIT_SCALE;
        const { gapMs: gap } = await longestGap(
          pod(state, 'node1-p1').netns,
          pod(state, 'node2-p1'),
          seconds,
          async () => {
            restarted = await restartProcess(lab, 'node1', 'SIGKILL');
            await waitFor(
              'the new agent to reuse the pins',
              () => readFileSync(restarted!.process.log, 'utf8').includes('eBPF data path reused from its pins'),
              10_000,
            );
          },
        );
        t.diagnostic(`longest gap without a reply: ${gap} ms`);
        // the probe sends every 10 ms; a scheduler hiccup on a loaded 2-core VM is tens of ms (×5 emulated)
        assert.ok(gap <= 200 * WAIT_SCALE, `longest gap ${gap} ms`);
        assert.deepEqual(ingress(lab, 'node1', 'eth0'), progs, 'the same program on eth0 (re-attached from its pin)');
        // A pod gone without a CNI DEL: its veth goes with its namespace, the agent drops its endpoint.
        const gone = pod(state, 'node1-p2');
        await deleteNetns(gone.netns);
        await waitFor(
          "the agent to sweep the vanished pod's endpoint",
          () => !BpfMap.with(pins(nodeBpfDir(lab, 'node1')).endpoints, readEndpoints).has(gone.ip),
          10_000,
        );
        assert.ok(BpfMap.with(pins(nodeBpfDir(lab, 'node1')).endpoints, readEndpoints).has(pod(state, 'node1-p1').ip));
      },
      TOPOLOGY,
    );
  },
);

ebpfTest('ebpf-native after a crash: doctor names the bpffs and its pins; down --all removes them', async (t) => {
  const lab = 't-ebpf-crash';
  // A crash: the CLI that built the lab is gone, and so is an agent (SIGKILL: no clean shut-down).
  await crashThenDownAll(t, lab, 'ebpf-native', async () => {
    const agent = readState(lab)!.processes.find((p) => p.node === 'node1')!;
    process.kill(agent.pid, 'SIGKILL');
    const left = (await findLeftovers()).find((l) => l.name === lab);
    assert.match(left?.detail ?? '', /a bpffs at \S+\/bpf holding (\d+) pinned objects/);
    const pinned = Number(/holding (\d+) pinned/.exec(left!.detail)![1]);
    assert.ok(pinned >= 2 * 5, `each node's programs and maps are pinned: ${left!.detail}`);
  });
  assert.deepEqual(mountsUnder(runDir(lab)), [], 'the bpffs and its pins are gone');
});

ebpfTest(
  "run: the programs' counters as the kind's meters, on the row and its path; the report's table and chips",
  async (t) => {
    // What a run records of the meters does not change with the kernel; the tests above prove the
    // programs count on the kernel tier's kernel, where a whole run costs a minute and more.
    if (KERNEL_TIER) return t.skip('a run records meters the same on every kernel; the host suite runs it');
    const lab = 't-ebpf-run';
    const dir = mkdtempSync(join(tmpdir(), 'cnilab-ebpf-run-'));
    try {
      const before = await rootSnapshot();
      const r = await cli([
        'run',
        '--lab',
        lab,
        '--arch',
        'ebpf-native',
        '--path',
        'inter-node',
        '--tests',
        'tcp',
        '--repeats',
        '1',
        '--duration',
        '1',
        '--out',
        join(dir, 'o'),
        '--json',
      ]);
      assert.equal(r.code, 0, r.stderr);
      const res = publishedResultsSchema.parse(JSON.parse(r.stdout));
      const [row] = res.rows;
      const g = row!.meters?.[0];
      assert.equal(g?.meter, 'eBPF programs');
      assert.deepEqual(res.paths[0]!.meters, row!.meters, 'the path holds what the row does');
      // The data leaves node1's pod through from_pod and enters node2 at from_netdev, redirected both times.
      const at = (name: string, node: string) => g!.readings.find((x) => x.name === name && x.node === node);
      // A second of TCP is megabytes (tens of them in the kernel tier's emulated CPU, gigabytes here).
      const [out, into] = [at('from_pod', 'node1')!.counts, at('from_netdev', 'node2')!.counts];
      const seen = JSON.stringify(g!.readings);
      assert.ok(out['redirect']! > 100 && out['redirectedBytes']! > 1e6, seen);
      assert.ok(into['peer']! > 100 && into['redirectedBytes']! > 1e6, seen);
      const html = readFileSync(join(dir, 'o', 'report.html'), 'utf8');
      assert.match(html, /<h3>eBPF programs<\/h3>/);
      assert.match(html, /data-meter="from_pod"/);
      await assertNothingLeft(lab, before);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
