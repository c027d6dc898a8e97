/**
 * ebpf-netkit: pods on netkit pairs (Linux 6.7+) whose own program, from_netkit, carries what the
 * pods send. The `ebpf` plugin with `device: netkit` at every spec version (its pairs made over
 * netlink, the program attached with BPF_LINK_CREATE and its link pinned; CHECK sees a missing link;
 * GC and DEL leave no pair and no pin), then a lab: traffic on one node and across nodes carried
 * by the programs (their counters move), and nothing left after `down`.
 *
 * Needs netkit: on a kernel without it (this host's, Debian's 6.1) the tests skip with the netkit
 * probe's reason; the kernel tier's 6.12 run requires netkit (CNILAB_REQUIRE_FEATURES), where a skip fails.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { CniError, type NetConfList } from '../../src/cni/types';
import { BpfMap } from '../../src/lib/bpf';
import { addNetns, deleteNetns, ip, ipJson, runIn } from '../../src/lib/netns';
import { mountBpffs, mountsUnder } from '../../src/lib/mounts';
import { nodeNetns, PREFIX, runDir } from '../../src/lab/names';
import { teardownLab } from '../../src/lab/teardown';
import { readState, type LabState } from '../../src/lab/state';
import { pins, readCounters, readEndpoints, type Counters } from '../../src/cni/plugins/ebpf/maps';
import { POD_GATEWAY } from '../../src/cni/plugins/common/l3-pod';
import { loadDatapath } from '../../src/ebpf/load';
import { nodeBpfDir } from '../../src/ebpf/control-plane';
import { probeNetkit } from '../../src/ebpf/probe';
import { assertNothingLeft, rootSnapshot, transfer, withLab, type RootSnapshot } from '../integration/helpers';
import { ebpfMissing } from '../integration/ebpf-skip';
import { podSeries, scratchRuntime } from '../integration/scratch';
import { REQUIRED_FEATURES } from '../integration/kernel';

let probed: Promise<string | false> | undefined;

/** Why netkit pairs with the eBPF data path cannot run here, or false. */
function netkitMissing(): Promise<string | false> {
  probed ??= (async () => {
    const ebpf = await ebpfMissing();
    if (ebpf) return `the eBPF data path cannot load: ${ebpf}`;
    const ns = `${PREFIX}t-nkprobe`;
    await deleteNetns(ns).catch(() => undefined);
    await addNetns(ns);
    try {
      const r = await probeNetkit(ns);
      return r.ok ? false : r.detail;
    } finally {
      await deleteNetns(ns);
    }
  })();
  return probed;
}

/** A test that needs netkit: skipped with the probe's reason, failed where the kernel must have it. */
function netkitTest(name: string, fn: (t: test.TestContext) => Promise<void>): void {
  test(name, async (t) => {
    const missing = await netkitMissing();
    if (missing && REQUIRED_FEATURES.has('netkit'))
      assert.fail(`CNILAB_REQUIRE_FEATURES names netkit, and it cannot run here: ${missing}`);
    if (missing) return t.skip(missing);
    await fn(t);
  });
}

const LAB = 't-netkitcni';
const HOST = nodeNetns(LAB, 'host');
const BPF = join(runDir(LAB), 'bpf', 'host');
const IPAM = join(runDir(LAB), 'ipam');
const rtm = scratchRuntime(LAB);
const list = (cniVersion: string): NetConfList => ({
  cniVersion,
  name: 'nknet',
  plugins: [
    {
      type: 'ebpf',
      mtu: 1400,
      bpfDir: BPF,
      device: 'netkit',
      ipam: { type: 'host-local', ranges: [[{ subnet: '10.83.1.0/24' }]], dataDir: IPAM },
    },
  ],
});
const newPod = podSeries(LAB, 'k', 'netkit');
const netkits = async (ns: string): Promise<string[]> =>
  (await ipJson<{ ifname: string; linkinfo?: { info_kind?: string } }[]>({ name: ns }, ['-d', 'link', 'show']))
    .filter((l) => l.linkinfo?.info_kind === 'netkit')
    .map((l) => l.ifname);
const linkPins = (): string[] => (existsSync(join(BPF, 'links')) ? readdirSync(join(BPF, 'links')) : []);
const endpoints = (): Map<string, { ifindex: number }> => BpfMap.with(pins(BPF).endpoints, readEndpoints);

let root: RootSnapshot | undefined;
before(async () => {
  if (await netkitMissing()) return;
  root = await rootSnapshot();
  await teardownLab(LAB);
  await addNetns(HOST);
  await ip({ name: HOST }, ['link', 'set', 'lo', 'up']);
  await mountBpffs(join(runDir(LAB), 'bpf'));
  await loadDatapath(BPF);
});
after(async () => {
  if (!root) return;
  await teardownLab(LAB);
  await assertNothingLeft(LAB, root);
});

for (const version of ['0.3.1', '0.4.0', '1.0.0', '1.1.0']) {
  netkitTest(
    `${version}: ADD puts two pods on netkit pairs run by from_netkit (they talk), CHECK, STATUS, GC keeps them, ` +
      'DEL twice leaves no pair and no pinned link',
    async () => {
      const [a, b] = [await newPod(), await newPod()];
      const conf = list(version);
      const ra = await rtm.addNetworkList(conf, a.rt);
      const rb = await rtm.addNetworkList(conf, b.rt);
      assert.equal(ra.cniVersion, version);
      const [hostIf, podIf] = ra.interfaces!;
      assert.match(hostIf!.name, /^lxc[0-9a-f]{8}$/);
      assert.deepEqual([podIf!.name, podIf!.sandbox], ['eth0', a.rt.netns]);
      assert.deepEqual(ra.routes, [{ dst: '0.0.0.0/0', gw: POD_GATEWAY }]);
      // both ends netkit, in L3 mode: no MAC, no ARP
      assert.deepEqual(await netkits(a.ns), ['eth0']);
      assert.deepEqual((await netkits(HOST)).sort(), [hostIf!.name, rb.interfaces![0]!.name].sort());
      const [eth0] = await ipJson<{ address: string; flags: string[] }[]>({ name: a.ns }, ['link', 'show', 'eth0']);
      assert.equal(eth0!.address, '00:00:00:00:00:00');
      assert.ok(eth0!.flags.includes('NOARP'), `eth0's flags: ${eth0!.flags.join(',')}`);
      assert.deepEqual(linkPins().sort(), [hostIf!.name, rb.interfaces![0]!.name].sort(), 'one pinned link a pair');
      const ipB = rb.ips![0]!.address.split('/')[0]!;
      const before = readCounters(pins(BPF).counters);
      await runIn({ name: a.ns }, 'ping', ['-c', '2', '-i', '0.2', '-W', '5', ipB]);
      const moved = readCounters(pins(BPF).counters);
      assert.ok(
        moved.from_netkit.redirect.packets - before.from_netkit.redirect.packets >= 4,
        'from_netkit handed the echoes and their replies to the other pod',
      );
      assert.equal(moved.from_pod.redirect_peer.packets, before.from_pod.redirect_peer.packets, 'from_pod ran not');
      if (version !== '0.3.1') {
        await rtm.checkNetworkList(conf, a.rt);
        await rtm.checkNetworkList(conf, b.rt);
      }
      if (version === '1.1.0') {
        await rtm.statusNetworkList(conf);
        const kept = await rtm.gcNetworkList(conf, [
          { containerID: a.rt.containerId, ifname: 'eth0' },
          { containerID: b.rt.containerId, ifname: 'eth0' },
        ]);
        assert.deepEqual(kept.deleted, []);
        await rtm.checkNetworkList(conf, a.rt);
      }
      for (const p of [a, b]) {
        await rtm.delNetworkList(conf, p.rt);
        await rtm.delNetworkList(conf, p.rt);
      }
      assert.deepEqual(await netkits(HOST), [], 'no pair left');
      assert.deepEqual(linkPins(), [], 'no link left pinned');
      assert.equal(endpoints().size, 0, 'no endpoint left');
      await deleteNetns(a.ns);
      await deleteNetns(b.ns);
    },
  );
}

netkitTest("CHECK sees a pair whose link is gone; GC removes a pair, its link's pin and its endpoint", async () => {
  const [a, b] = [await newPod(), await newPod()];
  const conf = list('1.1.0');
  const ra = await rtm.addNetworkList(conf, a.rt);
  const rb = await rtm.addNetworkList(conf, b.rt);
  rmSync(join(BPF, 'links', ra.interfaces![0]!.name)); // the program detaches with its last reference
  await assert.rejects(
    rtm.checkNetworkList(conf, a.rt),
    (e: CniError) => e.code === 102 && /no BPF link is pinned/.test(e.message),
  );
  await rtm.gcNetworkList(conf, [{ containerID: a.rt.containerId, ifname: 'eth0' }]);
  assert.deepEqual(await netkits(HOST), [ra.interfaces![0]!.name], "b's pair is gone");
  assert.deepEqual(linkPins(), [], "b's link pin is gone");
  assert.equal(endpoints().has(rb.ips![0]!.address.split('/')[0]!), false, "b's endpoint is gone");
  await rtm.delNetworkList(conf, a.rt);
  await rtm.delNetworkList(conf, b.rt);
  assert.deepEqual(await netkits(HOST), []);
  await deleteNetns(a.ns);
  await deleteNetns(b.ns);
});

const pod = (s: LabState, name: string): LabState['pods'][number] => s.pods.find((p) => p.name === name)!;
const counters = (lab: string, node: string): Counters => readCounters(pins(nodeBpfDir(lab, node)).counters);

netkitTest(
  'ebpf-netkit lab: pod to pod on one node and across nodes, carried by from_netkit and from_netdev; ' +
    'nothing left after down (no pair, no pin, no bpffs)',
  async (t) => {
    const lab = 't-netkit';
    await withLab(
      lab,
      'ebpf-netkit',
      async (state) => {
        const [a, b, c] = [pod(state, 'node1-p1'), pod(state, 'node1-p2'), pod(state, 'node2-p1')];
        assert.deepEqual(await netkits(a.netns), ['eth0'], "the pod's eth0 is a netkit end");
        assert.equal((await netkits(nodeNetns(lab, 'node1'))).length, 2, "node1 holds its two pods' primaries");
        const before = { node1: counters(lab, 'node1'), node2: counters(lab, 'node2') };
        await transfer(a, b, 4); // one node
        const mid = counters(lab, 'node1');
        const local = mid.from_netkit.redirect.bytes - before.node1.from_netkit.redirect.bytes;
        await transfer(a, c, 4); // across nodes
        const after = { node1: counters(lab, 'node1'), node2: counters(lab, 'node2') };
        const out =
          after.node1.from_netkit.redirect.bytes +
          after.node1.from_netkit.redirect_neigh.bytes -
          mid.from_netkit.redirect.bytes -
          mid.from_netkit.redirect_neigh.bytes;
        const inbound = after.node2.from_netdev.redirect_peer.bytes - before.node2.from_netdev.redirect_peer.bytes;
        t.diagnostic(
          `bytes — one node: ${local} by from_netkit; across: ${out} out of node1, ${inbound} into node2's pod`,
        );
        const MB4 = 4 << 20;
        assert.ok(local > MB4, `from_netkit handed ${local} bytes to the local pod`);
        assert.ok(out > MB4, `from_netkit on node1 sent ${out} bytes to the route's device`);
        assert.ok(inbound > MB4, `from_netdev on node2 handed ${inbound} bytes to the netkit pod`);
        assert.equal(after.node1.from_pod.redirect_peer.packets + after.node1.from_pod.redirect.packets, 0);
        assert.equal(after.node1.from_netkit.drop.packets, 0, 'nothing dropped');
        assert.ok(readState(lab), 'the lab is up');
      },
      'topology: {computeNodes: 2, defaults: {pods: 2}}',
    );
    assert.equal(existsSync(runDir(lab)), false);
    assert.deepEqual(mountsUnder(runDir(lab)), [], 'the bpffs went with the lab, its pins with it');
  },
);
