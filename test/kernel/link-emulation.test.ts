/**
 * Link emulation that needs sch_netem, which the development VM's kernel lacks: it runs in the
 * Debian-kernel VM tier (CNILAB_KERNEL_TIER=1, where a skip is a failure) and skips elsewhere,
 * saying why. On this host, test/integration/link-emulation.test.ts checks that netem options
 * are refused instead.
 */
import assert from 'node:assert/strict';
import { nodeNetns } from '../../src/lab/names';
import { run } from '../../src/lib/exec';
import { withLab } from '../integration/helpers';
import { KERNEL_TIER, kernelTest } from '../integration/kernel';

/** What a round trip may take beyond the emulated delay: the kernel tier's VM runs 15–60× slower. */
const SLACK_MS = KERNEL_TIER ? 10 : 3;

/**
 * min/avg/max of 5 pings from node to address, in ms, after one that resolves the address (ARP
 * crosses the delayed links too, so the first round trip is longer).
 */
async function pingMs(ns: string, address: string): Promise<{ min: number; avg: number; max: number }> {
  await run('ip', ['netns', 'exec', ns, 'ping', '-c', '1', '-W', '5', '-q', address]);
  const r = await run('ip', ['netns', 'exec', ns, 'ping', '-c', '5', '-i', '0.2', '-q', address]);
  const m = /= ([\d.]+)\/([\d.]+)\/([\d.]+)/.exec(r.stdout);
  assert.ok(m, r.stdout);
  return { min: Number(m[1]), avg: Number(m[2]), max: Number(m[3]) };
}

kernelTest(
  'delay shows in ping RTT: 2 × (delay of the two links) between two nodes; per-link override',
  ['sch_netem'],
  async () => {
    const lab = 't-link-delay';
    const yaml =
      'topology:\n  underlay: {delay: 2ms}\n  nodes:\n    control: {role: control}\n    node1: {role: compute, ' +
      'pods: 0}\n    node2: {role: compute, pods: 0}\n    node3: {role: compute, pods: 0, link: {delay: 5ms, ' +
      'rate: 100mbit}}\n';
    await withLab(
      lab,
      'host',
      async (state) => {
        const ip = (n: string): string => state.topology.nodes.find((x) => x.name === n)!.underlayIp;
        // node1 → node2: each link 2 ms each way: 2 × (2 + 2) = 8 ms.
        const a = await pingMs(nodeNetns(lab, 'node1'), ip('node2'));
        assert.ok(a.min >= 8 && a.min < 8 + SLACK_MS, `node1 ↔ node2 ${JSON.stringify(a)} ms, expected about 8`);
        // node1 → node3: 2 × (2 + 5) = 14 ms; node3's link also has tbf under its netem.
        const b = await pingMs(nodeNetns(lab, 'node1'), ip('node3'));
        assert.ok(b.min >= 14 && b.min < 14 + SLACK_MS, `node1 ↔ node3 ${JSON.stringify(b)} ms, expected about 14`);
        const q = await run('ip', ['netns', 'exec', nodeNetns(lab, 'node3'), 'tc', 'qdisc', 'show', 'dev', 'eth0']);
        assert.match(q.stdout, /qdisc netem 1: root .*delay 5ms/);
        assert.match(q.stdout, /qdisc tbf 10: parent 1:1 .*rate 100Mbit/);
      },
      yaml,
    );
  },
);

kernelTest('loss drops packets on the link', ['sch_netem'], async () => {
  const lab = 't-link-loss';
  await withLab(
    lab,
    'host',
    async (state) => {
      const to = state.topology.nodes.find((x) => x.name === 'node2')!.underlayIp;
      const r = await run(
        'ip',
        ['netns', 'exec', nodeNetns(lab, 'node1'), 'ping', '-c', '50', '-i', '0.01', '-q', to],
        { check: false },
      );
      const lost = Number(/([\d.]+)% packet loss/.exec(r.stdout)?.[1]);
      // 50% each direction of each link: a round trip crosses four; almost every ping is lost.
      assert.ok(lost > 70, `${lost}% of pings lost`);
    },
    'topology:\n  computeNodes: 2\n  defaults: {pods: 0}\n  underlay: {loss: 50%}\n',
  );
});
