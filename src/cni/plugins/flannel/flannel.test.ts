import { test } from 'node:test';
import assert from 'node:assert/strict';
import { delegateConfig } from './flannel';
import { parseFlannelConfig } from './config';
import { formatSubnetEnv, parseSubnetEnv } from './subnet-env';

const ENV = { network: '10.244.0.0/16', subnet: '10.244.3.1/24', mtu: 1450, ipMasq: false };

test('the delegate is bridge with host-local on the node subnet, a route to the network, the backend MTU', () => {
  const conf = parseFlannelConfig(
    JSON.stringify({ cniVersion: '1.0.0', name: 'net', type: 'flannel', runtimeConfig: { x: 1 } }),
  );
  assert.deepEqual(delegateConfig(conf, ENV), {
    runtimeConfig: { x: 1 },
    name: 'net',
    cniVersion: '1.0.0',
    type: 'bridge',
    isGateway: true,
    ipMasq: true,
    mtu: 1450,
    ipam: { type: 'host-local', ranges: [[{ subnet: '10.244.3.0/24' }]], routes: [{ dst: '10.244.0.0/16' }] },
  });
});

test('explicit delegate fields win; FLANNEL_IPMASQ=true means the delegate does not masquerade', () => {
  const conf = parseFlannelConfig(
    JSON.stringify({
      cniVersion: '0.4.0',
      name: 'net',
      type: 'flannel',
      delegate: { type: 'bridge', bridge: 'br9', mtu: 1400, isGateway: false, ipam: { dataDir: '/x' } },
    }),
  );
  const d = delegateConfig(conf, { ...ENV, ipMasq: true });
  assert.equal(d.bridge, 'br9');
  assert.equal(d.mtu, 1400);
  assert.equal(d.isGateway, false);
  assert.equal(d.ipMasq, false);
  assert.deepEqual(d.ipam, {
    type: 'host-local',
    ranges: [[{ subnet: '10.244.3.0/24' }]],
    routes: [{ dst: '10.244.0.0/16' }],
    dataDir: '/x',
  });
});

test('defaults and validation', () => {
  const c = parseFlannelConfig('{"cniVersion":"1.0.0","name":"n","type":"flannel"}');
  assert.deepEqual([c.subnetFile, c.dataDir], ['/run/flannel/subnet.env', '/var/lib/cni/flannel']);
  assert.throws(
    () => parseFlannelConfig('{"cniVersion":"1.0.0","name":"n","delegate":[]}'),
    /delegate: must be an object/,
  );
});

test('dual-stack: a range set and a route per family subnet.env has, in the ipFamilies order', () => {
  const env = parseSubnetEnv(
    formatSubnetEnv({ ...ENV, ipv6Network: 'fd00:10:244::/56', ipv6Subnet: 'fd00:10:244:3::1/64' }),
    'subnet.env',
  );
  const conf = (families?: number[]) =>
    parseFlannelConfig(
      JSON.stringify({
        cniVersion: '1.0.0',
        name: 'n',
        type: 'flannel',
        ...(families ? { ipFamilies: families } : {}),
      }),
    );
  assert.deepEqual(delegateConfig(conf(), env).ipam, {
    type: 'host-local',
    ranges: [[{ subnet: '10.244.3.0/24' }], [{ subnet: 'fd00:10:244:3::/64' }]],
    routes: [{ dst: '10.244.0.0/16' }, { dst: 'fd00:10:244::/56' }],
  });
  assert.deepEqual((delegateConfig(conf([6, 4]), env).ipam as { ranges: unknown[] }).ranges, [
    [{ subnet: 'fd00:10:244:3::/64' }],
    [{ subnet: '10.244.3.0/24' }],
  ]);
  assert.throws(() => conf([4, 4]), /ipFamilies: must list 4 and\/or 6, each once/);
});

test('IPv6 only: subnet.env has only the IPv6 pair, and the delegate gets only an IPv6 range', () => {
  const text = formatSubnetEnv({ mtu: 1430, ipMasq: false, ipv6Network: 'fd00::/56', ipv6Subnet: 'fd00:0:0:1::1/64' });
  assert.equal(
    text,
    'FLANNEL_IPV6_NETWORK=fd00::/56\nFLANNEL_IPV6_SUBNET=fd00:0:0:1::1/64\nFLANNEL_MTU=1430\nFLANNEL_IPMASQ=false\n',
  );
  const env = parseSubnetEnv(text, 'subnet.env');
  assert.equal(env.subnet, undefined);
  const conf = parseFlannelConfig('{"cniVersion":"1.0.0","name":"n","type":"flannel"}');
  assert.deepEqual((delegateConfig(conf, env).ipam as { ranges: unknown[] }).ranges, [[{ subnet: 'fd00:0:0:1::/64' }]]);
  assert.throws(
    () => delegateConfig(parseFlannelConfig('{"cniVersion":"1.0.0","name":"n","ipFamilies":[4]}'), env),
    /ipFamilies: subnet.env has none of IPv4/,
  );
  assert.throws(
    () => parseSubnetEnv('FLANNEL_IPV6_NETWORK=fd00::/56\nFLANNEL_MTU=1430\n', 'f'),
    /FLANNEL_IPV6_SUBNET is missing/,
  );
  assert.throws(() => parseSubnetEnv('FLANNEL_MTU=1430\n', 'f'), /FLANNEL_NETWORK is missing/);
});
