import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CniError } from '../../types';
import { parseIpvlanConfig } from './config';
import { chainedMaster } from './ipvlan';

const conf = (extra: Record<string, unknown>): string =>
  JSON.stringify({ cniVersion: '1.0.0', name: 'n', type: 'ipvlan', ...extra });

test('ipvlan config: mode defaults to l2, master is optional (resolved per command), mtu and ipam pass', () => {
  const c = parseIpvlanConfig(conf({ ipam: { type: 'host-local' } }));
  assert.equal(c.mode, 'l2');
  assert.equal(c.master, undefined);
  assert.equal(c.mtu, undefined);
  const d = parseIpvlanConfig(conf({ master: 'eth0', mode: 'l3s', mtu: 1400 }));
  assert.deepEqual([d.master, d.mode, d.mtu, d.ipam], ['eth0', 'l3s', 1400, undefined]);
});

test('ipvlan config: each bad field is error 7 naming it', () => {
  const bad: [Record<string, unknown>, RegExp][] = [
    [{ mode: 'bridge' }, /^mode: must be one of l2, l3, l3s$/],
    [{ mode: null }, /^mode: /],
    [{ master: '' }, /^master: must be a non-empty string/],
    [{ master: null }, /^master: /],
    [{ master: 'a/b' }, /^master: "a\/b" is not a valid interface name/],
    [{ mtu: 10 }, /^mtu: must be an integer from 68 to 65535/],
    [{ ipam: {} }, /^ipam: must be an object with a "type"/],
  ];
  for (const [extra, msg] of bad)
    assert.throws(
      () => parseIpvlanConfig(conf(extra)),
      (e: CniError) => e instanceof CniError && e.code === 7 && msg.test(e.message),
      JSON.stringify(extra),
    );
});

test("ipvlan chained: the master is prevResult's one named interface, else error 7 naming master", () => {
  assert.equal(chainedMaster({ cniVersion: '1.0.0', interfaces: [{ name: 'net1' }] }), 'net1');
  for (const interfaces of [[], [{ name: 'a' }, { name: 'b' }], [{ name: '' }]])
    assert.throws(
      () => chainedMaster({ cniVersion: '1.0.0', interfaces }),
      (e: CniError) => e.code === 7 && /^master: not given/.test(e.message),
    );
});
