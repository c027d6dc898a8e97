import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { crr } from './client';
import { crrServer } from './server';

test('crr --until: stops at the named server’s first answer and says when; spaced by --interval-pct', async (t) => {
  const server = crrServer('b').listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => server.close());
  const port = (server.address() as AddressInfo).port;
  let first = 0;
  const before = performance.timeOrigin + performance.now();
  const hit = await crr({ host: '127.0.0.1', port, count: 100, until: 'b', onFirst: () => first++ });
  assert.equal(hit.ok, 1);
  assert.equal(first, 1);
  assert.ok(hit.untilAt! >= before && hit.untilAt! <= performance.timeOrigin + performance.now());
  // Never the named one: runs to its duration, spaced by 1 ms or 20% of the time since the first answer.
  const miss = await crr({
    host: '127.0.0.1',
    port,
    count: 100_000,
    durationSec: 0.3,
    until: 'a',
    intervalMs: 1,
    intervalPct: 20,
  });
  assert.equal(miss.untilAt, undefined);
  assert.ok(miss.ok > 3 && miss.ok < 60, `${miss.ok} connections in 0.3 s`);
  const plain = await crr({ host: '127.0.0.1', port, count: 5 });
  assert.equal(plain.ok, 5);
  assert.equal('untilAt' in plain, false);
});
