import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Topology } from '../topology/schema';
import { kuryrLayout } from './layout';

const topology = (compute: number): Topology => ({
  name: 'x',
  underlay: { cidr: '198.18.0.0/24', cidr6: '2001:2::/64', mtu: 1500 },
  ipFamilies: [4],
  podCidr: '10.244.0.0/16',
  subnetLength: 24,
  podCidr6: 'fd00:10:244::/56',
  subnetLength6: 64,
  nodes: ['control', ...Array.from({ length: compute }, (_, i) => `node${i + 1}`)].map((n, i) => ({
    name: n,
    role: i === 0 ? 'control' : 'compute',
    underlay: '',
    underlayIp: '',
    underlay6: '',
    underlayIp6: '',
  })),
  pods: [],
});

test('the layout: two networks and a router on the second node from three compute nodes; one network below that', () => {
  const three = kuryrLayout(topology(3));
  assert.deepEqual(three.networks, [
    { name: 'net-a', cidr: '10.244.1.0/24' },
    { name: 'net-b', cidr: '10.244.2.0/24' },
  ]);
  assert.deepEqual(
    [...three.networkOf],
    [
      ['node1', 'net-a'],
      ['node2', 'net-a'],
      ['node3', 'net-b'],
    ],
  );
  assert.equal(three.routerHost, 'node2');
  const four = kuryrLayout(topology(4));
  assert.deepEqual(
    [...four.networkOf].filter(([, n]) => n === 'net-b'),
    [['node4', 'net-b']],
    'the last compute node is C',
  );
  const two = kuryrLayout(topology(2));
  assert.equal(two.networks.length, 1);
  assert.equal(two.routerHost, undefined);
});
