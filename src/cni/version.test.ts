import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareVersions, convertResult, negotiate, parseResult } from './version';
import type { Result } from './types';

test('versions compare by number, not text; negotiation takes the highest both speak', () => {
  assert.equal(compareVersions('0.10.0', '0.4.0'), 1);
  assert.equal(compareVersions('1.0.0', '1.0.0'), 0);
  assert.equal(negotiate(['0.3.1', '1.1.0', '2.0.0', '0.4.0']), '1.1.0');
  assert.equal(negotiate(['0.2.0', '9.0.0']), undefined);
});

const full: Result = {
  cniVersion: '1.1.0',
  interfaces: [
    {
      name: 'eth0',
      mac: '02:00:00:00:00:01',
      mtu: 1450,
      sandbox: '/run/netns/p',
      socketPath: '/s',
      pciID: '0000:00:01.0',
    },
  ],
  ips: [
    { address: '10.0.0.2/24', gateway: '10.0.0.1', interface: 0 },
    { address: 'fd00::2/64', interface: 0 },
  ],
  routes: [{ dst: '0.0.0.0/0', gw: '10.0.0.1', mtu: 1400, advmss: 1360, priority: 10, table: 100, scope: 0 }],
  dns: { nameservers: ['10.0.0.53'] },
};

test('every version round-trips through the internal shape; what a version lacks is dropped going down', () => {
  for (const v of ['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0']) {
    const down = convertResult(full, v);
    assert.equal(down.cniVersion, v);
    const back = convertResult(parseResult(JSON.parse(JSON.stringify(down)), 'r'), '1.1.0');
    if (v === '1.1.0') assert.deepEqual(back, full);
    else {
      assert.deepEqual(back.interfaces, [{ name: 'eth0', mac: '02:00:00:00:00:01', sandbox: '/run/netns/p' }]);
      assert.deepEqual(back.routes, [{ dst: '0.0.0.0/0', gw: '10.0.0.1' }]);
      assert.deepEqual(back.ips, full.ips);
    }
  }
  assert.deepEqual(
    convertResult(full, '0.4.0').ips?.map((i) => (i as { version?: string }).version),
    ['4', '6'],
  );
});

test('a result that is not one is a decode error naming the part', () => {
  assert.throws(() => parseResult({ cniVersion: '1.0.0', ips: {} }, 'prevResult'), /prevResult\.ips: must be an array/);
  assert.throws(() => parseResult({ cniVersion: '1.0.0', ips: [{}] }, 'prevResult'), /prevResult\.ips\[0\]\.address/);
  assert.throws(() => parseResult('x', 'prevResult'), /must be a result object/);
});
