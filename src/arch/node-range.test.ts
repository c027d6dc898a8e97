import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nodeRangeIpam } from './node-range';
import { bridgeConflist } from './bridge/conflist';
import type { ConflistContext } from '../flannel/control-plane';

const ctx = (ipFamilies: readonly (4 | 6)[], v4 = true, ipv6Dad = false): ConflistContext => ({
  subnetEnv: {
    ...(v4 ? { network: '10.244.0.0/16', subnet: '10.244.2.1/24' } : {}),
    ipv6Network: 'fd00:10:244::/56',
    ipv6Subnet: 'fd00:10:244:2::1/64',
    mtu: 1500,
    ipMasq: false,
  },
  nodeDir: '/n',
  ipamDir: '/n/ipam',
  underlayIf: 'eth0',
  lab: 'l',
  node: 'node1',
  ipFamilies,
  ipv6Dad,
});

test("macvlan/ipvlan ranges: each family's whole network, handed out from the node's subnet, in ipFamilies order", () => {
  assert.deepEqual(nodeRangeIpam(ctx([6, 4])), {
    type: 'host-local',
    ranges: [
      [
        {
          subnet: 'fd00:10:244::/56',
          rangeStart: 'fd00:10:244:2::2',
          rangeEnd: 'fd00:10:244:2:ffff:ffff:ffff:fffe',
          gateway: 'fd00:10:244:2::1',
        },
      ],
      [{ subnet: '10.244.0.0/16', rangeStart: '10.244.2.2', rangeEnd: '10.244.2.254', gateway: '10.244.2.1' }],
    ],
    dataDir: '/n/ipam',
  });
  assert.equal(
    (nodeRangeIpam(ctx([4])).ranges as unknown[]).length,
    1,
    'a family the topology does not ask is left out',
  );
});

test("bridge: the node's subnet of each family, IPv6-only with no IPv4 range", () => {
  const ipam = (c: ConflistContext) =>
    (bridgeConflist(c).plugins[0] as unknown as { ipam: { ranges: unknown } }).ipam.ranges;
  assert.deepEqual(ipam(ctx([4, 6])), [[{ subnet: '10.244.2.0/24' }], [{ subnet: 'fd00:10:244:2::/64' }]]);
  assert.deepEqual(ipam(ctx([6], false)), [[{ subnet: 'fd00:10:244:2::/64' }]]);
});

test("bridge: the topology's ipv6Dad turns bridge's enabledad on; off, the field is left out (the reference's default)", () => {
  const plugin = (c: ConflistContext) => bridgeConflist(c).plugins[0] as unknown as { enabledad?: boolean };
  assert.equal(plugin(ctx([6], false, true)).enabledad, true);
  assert.equal('enabledad' in plugin(ctx([6], false)), false);
});
