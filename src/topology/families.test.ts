import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseTopology } from './load';

test('ipFamilies: IPv4 by default; [ipv6] alone is a whole IPv6 topology, its ranges from their defaults', () => {
  assert.deepEqual(parseTopology('', 'default').ipFamilies, [4]);
  const t = parseTopology('topology:\n  ipFamilies: [ipv6]\n', 't.yaml');
  assert.deepEqual(t.ipFamilies, [6]);
  assert.equal(t.underlay.cidr6, '2001:2::/64');
  assert.equal(t.podCidr6, 'fd00:10:244::/56');
  assert.equal(t.subnetLength6, 64);
  assert.deepEqual(
    t.nodes.map((n) => [n.name, n.underlay6]),
    [
      ['control', '2001:2::1/64'],
      ['node1', '2001:2::2/64'],
      ['node2', '2001:2::3/64'],
      ['node3', '2001:2::4/64'],
    ],
  );
});

test('ipFamilies: 4 and 6 are accepted for ipv4 and ipv6, in the order given (the first is what a run measures)', () => {
  assert.deepEqual(parseTopology('topology:\n  ipFamilies: [6, 4]\n', 't.yaml').ipFamilies, [6, 4]);
  assert.deepEqual(parseTopology('topology:\n  ipFamilies: [ipv4, ipv6]\n', 't.yaml').ipFamilies, [4, 6]);
});

for (const [name, yaml, want] of [
  [
    'a v6 range where v4 is expected',
    'podCidr: fd00::/56',
    /topology\.podCidr: fd00::\/56 is an IPv6 range: give it in podCidr6/,
  ],
  [
    'a v4 range where v6 is expected',
    'podCidr6: 10.1.0.0/16',
    /topology\.podCidr6: 10\.1\.0\.0\/16 is an IPv4 range: give it in podCidr/,
  ],
  [
    'a v6 underlay in the v4 field',
    'underlay: {cidr: "2001:2::/64"}',
    /topology\.underlay\.cidr: 2001:2::\/64 is an IPv6 range: give it in underlay\.cidr6/,
  ],
  ['an underlay outside RFC 5180', 'underlay: {cidr6: "2001:db8::/64"}', /topology\.underlay\.cidr6: .*2001:2::\/48/],
  ['host bits', 'podCidr6: "fd00::1/64"', /topology\.podCidr6: fd00::1\/64 has host bits set; did you mean fd00::\/64/],
  ['a family named twice', 'ipFamilies: [ipv6, 6]', /topology\.ipFamilies: names IPv6 twice/],
  ['an unknown family', 'ipFamilies: [ipv5]', /topology\.ipFamilies\.0: must be ipv4 or ipv6/],
  ['no family', 'ipFamilies: []', /topology\.ipFamilies: must name at least one family/],
  [
    'overlapping IPv6 ranges',
    'underlay: {cidr6: "2001:2::/48"}\n  podCidr6: "2001:2:0:100::/56"',
    /topology\.podCidr6: 2001:2:0:100::\/56 overlaps the underlay/,
  ],
  [
    'a prefix too small for the nodes',
    'computeNodes: 4\n  podCidr6: "fd00::/62"',
    /topology\.podCidr6: fd00::\/62 holds 3 \/64 node prefixes, fewer than 4 compute nodes/,
  ],
  ['a node prefix no longer than the range', 'subnetLength6: 56', /topology\.subnetLength6: \/56 must be longer/],
] as const)
  test(`ipFamilies and the IPv6 ranges refuse ${name} in one line naming the field`, () => {
    assert.throws(
      () => parseTopology(`topology:\n  ${yaml}\n`, 't.yaml'),
      (e: Error & { code?: string }) => {
        assert.equal(e.code, 'INVALID_TOPOLOGY');
        assert.match(e.message, want);
        assert.equal(e.message.includes('\n'), false, 'one line');
        return true;
      },
    );
  });
