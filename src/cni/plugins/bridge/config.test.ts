import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CniError } from '../../types';
import { parseBridgeConfig } from './config';

const conf = (extra: Record<string, unknown>): string =>
  JSON.stringify({ cniVersion: '1.0.0', name: 'n', type: 'bridge', ...extra });

test("bridge config: enabledad (the reference's name) turns DAD on; off by default", () => {
  assert.equal(parseBridgeConfig(conf({})).enableDad, false);
  assert.equal(parseBridgeConfig(conf({ enabledad: true })).enableDad, true);
  assert.throws(
    () => parseBridgeConfig(conf({ enabledad: 'yes' })),
    (e: CniError) => /^enabledad: /.test(e.message),
  );
});

test('bridge config: the VLAN fields are refused, naming the field', () => {
  assert.throws(
    () => parseBridgeConfig(conf({ vlan: 7 })),
    (e: CniError) => e.code === 2 && /^vlan: /.test(e.message),
  );
});

test("bridge config: bigTcp (cnilab's) sets BIG TCP on the bridge and both veth ends; off by default", () => {
  assert.equal(parseBridgeConfig(conf({})).bigTcp, false);
  assert.equal(parseBridgeConfig(conf({ bigTcp: true })).bigTcp, true);
  assert.throws(
    () => parseBridgeConfig(conf({ bigTcp: 'on' })),
    (e: CniError) => e.message === 'bigTcp: must be true or false',
  );
});
