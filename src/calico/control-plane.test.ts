import { test } from 'node:test';
import assert from 'node:assert/strict';
import { architectures } from '../arch';
import { parseTopology } from '../topology/load';
import { calicoWgPeers } from './agent/wireguard';

const refuse = (arch: string, yaml: string): string | undefined =>
  architectures.get(arch).control.refuse?.(parseTopology(yaml, 't'));

test("calico refuses a pool with fewer blocks than nodes, or one holding the pods' gateway; takes the default", () => {
  assert.equal(refuse('calico-bgp', ''), undefined);
  assert.equal(refuse('calico-vxlan', ''), undefined);
  assert.equal(
    refuse('calico-bgp', 'topology: {podCidr: 10.244.0.0/25, subnetLength: 27}'),
    'topology.podCidr (the IPAM pool): 10.244.0.0/25 holds 2 /26 block(s), fewer than one per node (3 compute ' +
      'nodes); use a larger pool',
  );
  assert.equal(
    refuse('calico-vxlan', 'topology: {podCidr: 169.254.0.0/16}'),
    "topology.podCidr (the IPAM pool): 169.254.0.0/16 holds the pods' gateway 169.254.1.1; pick a range apart from it",
  );
});

test('calico-bgp declares IPv4 and IPv6, the other modes IPv4; a too small IPv6 pool is refused naming podCidr6', () => {
  assert.deepEqual(architectures.get('calico-bgp').control.ipFamilies, [4, 6]);
  for (const arch of ['calico-vxlan', 'calico-ipip', 'calico-wireguard'])
    assert.deepEqual(architectures.get(arch).control.ipFamilies ?? [4], [4], arch);
  const v6 = parseTopology('topology: {ipFamilies: [ipv6]}', 't');
  assert.equal(architectures.get('calico-bgp').control.refuse?.(v6), undefined);
  // The topology's own check refuses most such pools first; the IPAM's check stands behind it.
  assert.equal(
    architectures.get('calico-bgp').control.refuse?.({ ...v6, podCidr6: 'fd00::/121' }),
    'topology.podCidr6 (the IPv6 IPAM pool): fd00::/121 holds 2 /122 block(s), fewer than one per node (3 ' +
      'compute nodes); use a larger pool',
  );
});

test('calicoWgPeers: each keyed peer with its blocks and device address; a peer without a key is none', () => {
  const state = {
    index: 1,
    config: { pool: '10.244.0.0/16', blockSize: 26, mode: 'bgp' as const },
    nodes: [],
    blocks: [
      { cidr: '10.244.0.0/26', node: 'node2', allocated: 3 },
      { cidr: '10.244.0.64/26', node: 'node1', allocated: 2 },
      { cidr: '10.244.1.0/26', node: 'node2', allocated: 1 },
      { cidr: '10.244.0.128/26', node: 'node3', allocated: 1 },
    ],
  };
  const peers = [
    { name: 'node2', ip: '198.18.0.3', wireguardPublicKey: 'B=', wireguardIp: '10.244.0.0' },
    { name: 'node3', ip: '198.18.0.4' },
  ];
  assert.deepEqual(calicoWgPeers(state, peers), [
    { publicKey: 'B=', endpoint: '198.18.0.3:51820', allowedIps: ['10.244.0.0/26', '10.244.1.0/26', '10.244.0.0/32'] },
  ]);
});
