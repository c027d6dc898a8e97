import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FeatureCheck, FeatureReport } from '../doctor/features';
import { parseTopology } from '../topology/load';
import { burstBytes, linkNeeds, linkRecords, qdiscLines, refuseUnemulatable } from './link-emulation';

const t = parseTopology(
  'topology:\n  underlay: {rate: 100mbit}\n  nodes:\n    control: {role: control}\n    node1: {role: compute}\n   ' +
    ' node2: {role: compute, link: {delay: 5ms}}\n',
  't.yaml',
);

const features = (ok: Record<string, boolean>): FeatureReport =>
  new Proxy({} as FeatureReport, {
    get: (_, f: string): FeatureCheck => ({ feature: f as FeatureCheck['feature'], ok: ok[f] ?? true, detail: '' }),
  });

test('each link field in force, with the field that set it and the qdisc it needs', () => {
  assert.deepEqual(linkNeeds(t), [
    { field: 'topology.underlay.rate', qdisc: 'tbf' },
    { field: 'topology.nodes.node2.link.delay', qdisc: 'netem' },
  ]);
});

test('a link option the kernel cannot emulate is refused, naming the field and the module', () => {
  assert.throws(
    () => refuseUnemulatable(t, features({ netem: false })),
    (e: Error & { code?: string }) =>
      e.code === 'FEATURE_MISSING' &&
      e.message ===
        "topology.nodes.node2.link.delay: needs the kernel's sch_netem qdisc module, which this kernel cannot " +
          'load (modprobe sch_netem)',
  );
  assert.throws(
    () => refuseUnemulatable(t, features({ tbf: false })),
    /: topology\.underlay\.rate: needs the kernel's sch_tbf/,
  );
  refuseUnemulatable(t, features({}));
  const rateOnly = parseTopology('topology:\n  underlay: {rate: 1gbit}\n', 't');
  refuseUnemulatable(rateOnly, features({ netem: false }));
});

test('qdiscs: tbf alone at the root; netem at the root with tbf as its child', () => {
  assert.deepEqual(qdiscLines('eth0', { rateBitsPerSec: 1e9 }, 1500), [
    [
      'qdisc',
      'replace',
      'dev',
      'eth0',
      'root',
      'handle',
      '1:',
      'tbf',
      'rate',
      '1gbit',
      'burst',
      '125000',
      'latency',
      '20ms',
    ],
  ]);
  assert.deepEqual(qdiscLines('node1', { delayUs: 2000, lossPct: 0.1, rateBitsPerSec: 1e7 }, 9000), [
    [
      'qdisc',
      'replace',
      'dev',
      'node1',
      'root',
      'handle',
      '1:',
      'netem',
      'limit',
      '10000',
      'delay',
      '2000us',
      'loss',
      '0.1%',
    ],
    [
      'qdisc',
      'add',
      'dev',
      'node1',
      'parent',
      '1:1',
      'handle',
      '10:',
      'tbf',
      'rate',
      '10mbit',
      'burst',
      '36056',
      'latency',
      '20ms',
    ],
  ]);
  assert.deepEqual(qdiscLines('eth0', {}, 1500), []);
  assert.equal(burstBytes(1e6, 1500), 6056, 'at least four frames');
});

test('results record every emulated link', () => {
  assert.deepEqual(linkRecords(t), [
    { node: 'control', rate: '100mbit', qdiscs: ['tbf'] },
    { node: 'node1', rate: '100mbit', qdiscs: ['tbf'] },
    { node: 'node2', rate: '100mbit', delayMs: 5, qdiscs: ['netem', 'tbf'] },
  ]);
});
