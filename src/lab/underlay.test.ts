import { test } from 'node:test';
import assert from 'node:assert/strict';
import { underlayMac } from './underlay';

test("a node's underlay MAC is its address's: locally administered, unicast, the same for the same address", () => {
  assert.equal(underlayMac('198.18.0.5'), '02:00:c6:12:00:05');
  assert.equal(underlayMac('198.19.255.254'), '02:00:c6:13:ff:fe');
  assert.notEqual(underlayMac('198.18.0.5'), underlayMac('198.18.0.6'));
});
