import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../lib/paths';
import { hops, parseIpLinkStats, type LinkCounters, type PathStop } from './hops';

test('ip -s -d -j link (recorded): kind from linkinfo, else the link type; 64-bit counters', () => {
  const links = parseIpLinkStats(JSON.parse(readFileSync(join(REPO_ROOT, 'test/fixtures/ip-link-stats.json'), 'utf8')));
  assert.deepEqual(
    links.map((l) => [l.ifname, l.kind, l.mtu]),
    [
      ['lo', 'loopback', 65536],
      ['va', 'veth', 1500],
    ],
  );
  assert.deepEqual([links[1]!.rxPackets, links[1]!.txBytes], [34873, 155983501]);
});

const link = (ifname: string, kind: string, rx: number, tx: number, master?: string): LinkCounters => ({
  ifname,
  kind,
  mtu: 1500,
  ...(master ? { master } : {}),
  rxPackets: rx,
  txPackets: tx,
  rxBytes: rx * 1000,
  txBytes: tx * 1000,
});
const zero = (l: LinkCounters): LinkCounters => ({ ...l, rxPackets: 0, txPackets: 0, rxBytes: 0, txBytes: 0 });

const hopsOrderTitle =
  'hops: the data enters a namespace before it leaves; client side outward, server side inward; strays dropped';
test(hopsOrderTitle, () => {
  const stops: PathStop[] = [
    { netns: 'n1', label: 'node n1', side: 'client' },
    { netns: 'n2', label: 'node n2', side: 'server' },
  ];
  const n1 = [
    link('eth0', 'veth', 10, 900),
    link('flannel.1', 'vxlan', 10, 900),
    link('vethA', 'veth', 900, 10, 'cni0'),
    link('cni0', 'bridge', 900, 10),
    link('vethB', 'veth', 1, 2, 'cni0'),
    link('lo', 'loopback', 50, 50),
  ];
  const n2 = [
    link('vethC', 'veth', 10, 900, 'cni0'),
    link('cni0', 'bridge', 10, 900),
    link('eth0', 'veth', 900, 10),
    link('flannel.1', 'vxlan', 900, 10),
  ];
  const before = new Map([
    ['n1', n1.map(zero)],
    ['n2', n2.map(zero)],
  ]);
  const after = new Map([
    ['n1', n1],
    ['n2', n2],
  ]);
  assert.deepEqual(
    hops(stops, before, after).map((h) => `${h.stop}/${h.ifname}`),
    [
      'node n1/vethA',
      'node n1/cni0',
      'node n1/flannel.1',
      'node n1/eth0',
      'node n2/eth0',
      'node n2/flannel.1',
      'node n2/cni0',
      'node n2/vethC',
    ],
  );
  assert.deepEqual(hops(stops, after, after), [], 'nothing moved, no hops');
});

const hopsRouterTitle =
  "hops: a node crossed twice (A to C via a router on B) is two stops, each with its own network's " + 'interfaces';
test(hopsRouterTitle, () => {
  const b = [
    link('eth0', 'veth', 900, 900),
    link('tapA', 'veth', 10, 900, 'brqA'),
    link('vxlan-1001', 'vxlan', 10, 900, 'brqA'),
    link('brqA', 'bridge', 0, 0),
    link('tapB', 'veth', 900, 10, 'brqB'),
    link('vxlan-1002', 'vxlan', 900, 10, 'brqB'),
  ];
  const r = [link('qr-A', 'veth', 900, 10), link('qr-B', 'veth', 10, 900)];
  const sw = [
    link('node1', 'veth', 900, 10, 'br0'),
    link('node2', 'veth', 900, 900, 'br0'),
    link('node3', 'veth', 10, 900, 'br0'),
  ];
  const stops: PathStop[] = [
    { netns: 'sw', label: 'switch', side: 'middle', exclude: ['node3'] },
    { netns: 'b', label: 'node b', side: 'middle', order: 'in', excludeSegmentOf: 'tapB' },
    { netns: 'r', label: 'router', side: 'middle' },
    { netns: 'b', label: 'node b', side: 'middle', order: 'out', excludeSegmentOf: 'tapA' },
    { netns: 'sw', label: 'switch', side: 'middle', exclude: ['node1'] },
  ];
  const after = new Map([
    ['b', b],
    ['r', r],
    ['sw', sw],
  ]);
  const before = new Map([...after].map(([k, v]) => [k, v.map(zero)]));
  assert.deepEqual(
    hops(stops, before, after).map((h) => `${h.stop}/${h.ifname}`),
    [
      'switch/node1',
      'switch/node2',
      'node b/eth0',
      'node b/vxlan-1001',
      'node b/tapA',
      'router/qr-A',
      'router/qr-B',
      'node b/tapB',
      'node b/vxlan-1002',
      'node b/eth0',
      'switch/node2',
      'switch/node3',
    ],
  );
});
