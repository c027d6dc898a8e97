import { test } from 'node:test';
import assert from 'node:assert/strict';
import { delegateConfig } from './flannel';
import { parseFlannelConfig } from './config';

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
