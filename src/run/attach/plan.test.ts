import { test } from 'node:test';
import assert from 'node:assert/strict';
import { architectures } from '../../arch';
import type { FeatureReport } from '../../doctor/features';
import { isCnilabError } from '../../lib/errors';
import { parseTopology } from '../../topology/load';
import { msStat as attachStat } from '../after/ms-stat';
import { firstReplyMs } from '../after/ping';
import { checkAttachSizes, fillersTo, planAttach, podsPerSubnet } from './plan';

const ALL_OK = new Proxy({}, { get: (_t, f) => ({ feature: f, ok: true, detail: 'ok' }) }) as FeatureReport;
const arch = (n: string) => architectures.get(n);

const attachPlanTitle =
  'attach plan: architectures with pods only; the probe on ' +
  'node1 pings the inter-node server, or the intra-node one';
test(attachPlanTitle, () => {
  const { cells, skipped } = planAttach({
    topology: parseTopology('', 'd'),
    archs: ['host', 'bridge', 'flannel-vxlan', 'kuryr-lb-vxlan', 'flannel-vxlan'].map(arch),
    features: ALL_OK,
  });
  assert.deepEqual(
    cells.map((c) => `${c.arch.name} ${c.lab}: ${c.node} -> ${c.target} (${c.path})`),
    [
      'bridge bridge: node1 -> node1-p2 (intra-node)',
      'flannel-vxlan flannel-vxlan: node1 -> node2-p1 (inter-node)',
      'kuryr-lb-vxlan kuryr-lb-vxlan: node1 -> node2-p1 (inter-node)',
    ],
  );
  assert.deepEqual(skipped, []);
  // With the MTU as a dimension, the attach test runs in the first MTU's lab.
  const m = planAttach({
    topology: parseTopology('', 'd'),
    archs: [arch('flannel-vxlan')],
    features: ALL_OK,
    mtu: 9000,
  });
  assert.equal(m.cells[0]!.lab, 'flannel-vxlan mtu 9000');
});

const missingFeatureTitle =
  'attach plan: an architecture whose feature is missing is left to the run; no pod to ping is skipped with why';
test(missingFeatureTitle, () => {
  const missing = new Proxy({}, { get: (_t, f) => ({ feature: f, ok: f !== 'vxlan', detail: 'no' }) }) as FeatureReport;
  assert.deepEqual(
    planAttach({ topology: parseTopology('', 'd'), archs: [arch('flannel-vxlan')], features: missing }).cells,
    [],
  );
  const lonely = parseTopology('topology: {nodes: {control: {role: control}, node1: {role: compute, pods: 1}}}', 't');
  const { cells, skipped } = planAttach({ topology: lonely, archs: [arch('bridge')], features: ALL_OK });
  assert.deepEqual(cells, []);
  assert.equal(skipped.length, 1);
  assert.equal(skipped[0]!.test, 'attach');
  assert.match(skipped[0]!.reason, /needs two pods on node1/);
});

test('fillers: the emptiest compute node first, numbered on from the ones before; none when the lab is full', () => {
  const held = [
    { name: 'node1-p1', node: 'node1' },
    { name: 'node1-p2', node: 'node1' },
    { name: 'node2-p1', node: 'node2' },
  ];
  const f = fillersTo(held, ['node1', 'node2', 'node3'], 8);
  assert.deepEqual(
    f.map((p) => `${p.name}@${p.node}`),
    ['attach-f1@node3', 'attach-f2@node2', 'attach-f3@node3', 'attach-f4@node1', 'attach-f5@node2'],
  );
  assert.deepEqual(
    fillersTo([...held, ...f], ['node1', 'node2', 'node3'], 9, 6).map((p) => p.name),
    ['attach-f6'],
  );
  assert.deepEqual(fillersTo(held, ['node1', 'node2'], 3), []);
});

const sizesTitle =
  'attach sizes: sorted; below the pods the topology holds, or beyond a node subnet, refused naming the flag';
test(sizesTitle, () => {
  const t = parseTopology('', 'd'); // 3 compute nodes, 6 pods, /24 each
  assert.deepEqual(checkAttachSizes(t, [100, 10, 10]), [10, 100]);
  assert.equal(podsPerSubnet(24), 253);
  const refused = (sizes: number[], re: RegExp) =>
    assert.throws(
      () => checkAttachSizes(t, sizes),
      (e: unknown) => isCnilabError(e, 'INVALID_INPUT') && re.test(e.message) && e.message.startsWith('--attach-sizes'),
    );
  refused([5, 10], /5 is below the 6 pods/);
  refused([1000], /1000 pods over 3 compute nodes put 335 pods on node1, whose \/24 pod subnet holds 253/);
  assert.deepEqual(checkAttachSizes(t, [756]), [756]); // 252 a node, and the probe on node1: 253
  refused([757], /put 254 pods on node1/);
});

test('attach stats: percentiles of ms, rounded', () => {
  const s = attachStat([10.123, 30, 20]);
  assert.deepEqual(
    { ...s, samples: s.samples },
    {
      n: 3,
      p50: 20,
      p90: 28,
      p99: 29.8,
      mean: 20.04,
      min: 10.12,
      max: 30,
      samples: [10.12, 30, 20],
    },
  );
});

test("the first answered ping: ping -D's reply timestamp, in ms", () => {
  const out = `PING 10.244.2.2 (10.244.2.2) 56(84) bytes of data.
[1795991954.446534] 64 bytes from 10.244.2.2: icmp_seq=3 ttl=63 time=0.137 ms

--- 10.244.2.2 ping statistics ---`;
  assert.equal(firstReplyMs(out), 1795991954446.534);
  assert.equal(firstReplyMs('PING x\n--- statistics ---\n3 packets transmitted, 0 received'), undefined);
});
