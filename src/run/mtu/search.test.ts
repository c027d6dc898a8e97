import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ProbeOutcome } from './ping-outcome';
import { nextSize, searchLargest, type Probe } from './search';

/**
 * A path for the search: the sender's device takes `ceiling` bytes of payload, the path `carries`; above it a hop
 * answers with frag-needed (loud) or nothing comes back (silent). `lose` loses the first probe of those sizes.
 */
function path(ceiling: number, carries: number, hop: 'loud' | 'silent', lose: number[] = []) {
  const sent: number[] = [];
  const lost = new Set(lose);
  const probe: Probe = (n) => {
    sent.push(n);
    let r: ProbeOutcome;
    if (n > ceiling) r = { kind: 'emsgsize', mtu: ceiling + 28 };
    else if (n <= carries) r = lost.delete(n) ? { kind: 'silent' } : { kind: 'reply' };
    else r = hop === 'loud' ? { kind: 'frag-needed', mtu: carries + 28, from: '198.18.0.3' } : { kind: 'silent' };
    return Promise.resolve(r);
  };
  return { probe, sent };
}

test('a path that carries what the device takes: two probes, the one above refused by the sender (EMSGSIZE)', async () => {
  const p = path(1472, 1472, 'silent');
  const r = await searchLargest(p.probe, { floor: 56, ceiling: 1472 });
  assert.deepEqual(r, { largestPayload: 1472, above: { kind: 'emsgsize', mtu: 1500 }, probes: 2 });
  assert.deepEqual(p.sent, [1472, 1473]);
});

test('a hop that answers frag-needed: the MTU it names is tried next, then one above it', async () => {
  const p = path(1472, 1372, 'loud');
  const r = await searchLargest(p.probe, { floor: 56, ceiling: 1472 });
  assert.deepEqual(r.above, { kind: 'frag-needed', mtu: 1400, from: '198.18.0.3' });
  assert.equal(r.largestPayload, 1372);
  assert.deepEqual(p.sent, [1472, 1372, 1373]);
});

test('a black hole: a binary search, the silent size above the answer probed once more', async () => {
  const p = path(1472, 1372, 'silent');
  const r = await searchLargest(p.probe, { floor: 56, ceiling: 1472 });
  assert.equal(r.largestPayload, 1372);
  assert.deepEqual(r.above, { kind: 'silent' });
  assert.ok(r.probes <= 14, String(r.probes));
  assert.equal(p.sent.filter((n) => n === 1373).length, 2, 'the silent failure above the answer is probed twice');
  assert.equal(r.probes, p.sent.length);
});

test('a lost packet just under the answer is not taken for the black hole: the search goes on above it', async () => {
  const honest = await searchLargest(path(1472, 1372, 'silent').probe, { floor: 56, ceiling: 1472 });
  const p = path(1472, 1372, 'silent', [1372]);
  const r = await searchLargest(p.probe, { floor: 56, ceiling: 1472 });
  assert.equal(p.sent.filter((n) => n === 1372).length, 2, 'lost once, then probed again');
  assert.equal(r.largestPayload, honest.largestPayload);
  assert.deepEqual(r.above, { kind: 'silent' });
});

test('with no retries a lost packet is believed', async () => {
  const p = path(1472, 1472, 'silent', [1472]);
  const r = await searchLargest(p.probe, { floor: 56, ceiling: 1472, retries: 0 });
  assert.ok(r.largestPayload < 1472);
});

test('nextSize: the size a loud failure names, then one above it, else the middle', () => {
  const named: ProbeOutcome = { kind: 'frag-needed', mtu: 1400, from: 'x' };
  assert.equal(nextSize(56, 1472, named, new Set([1472])), 1372);
  assert.equal(nextSize(1372, 1472, named, new Set([1472, 1372])), 1373);
  assert.equal(nextSize(56, 1472, { kind: 'silent' }, new Set()), 764);
  assert.equal(nextSize(1380, 1472, named, new Set()), 1426, 'a named size outside (lo, hi): the middle');
});
