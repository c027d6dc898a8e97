import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backOffSchedule, DEFAULT_BACK_OFF, retryTransient, type RetryEvent } from './add-retry';
import { CniCode, CniError } from './types';

test('back-off: 0.2 s doubling to 3.2 s, capped, all pauses within 60 s', () => {
  const s = backOffSchedule();
  assert.deepEqual(s.slice(0, 6), [200, 400, 800, 1600, 3200, 3200]);
  assert.ok(s.every((d) => d <= DEFAULT_BACK_OFF.maxMs));
  const sum = s.reduce((a, b) => a + b, 0);
  assert.ok(sum <= 60_000 && sum + 3200 > 60_000, `sum ${sum}`);
  assert.equal(s.length, 21);
  assert.deepEqual(backOffSchedule({ firstMs: 10, maxMs: 25, totalMs: 60 }), [10, 20, 25]);
});

const QUICK = { firstMs: 1, maxMs: 4, totalMs: 20 };
const later = (): CniError => new CniError(CniCode.TRY_AGAIN_LATER, 'the controller is unavailable');

test('retry: error 11 is retried, DEL first each time, until the ADD succeeds', async () => {
  const calls: string[] = [];
  const events: RetryEvent[] = [];
  let adds = 0;
  const r = await retryTransient(
    async () => {
      calls.push('ADD');
      if (++adds < 3) throw later();
      return 'attached';
    },
    async () => void calls.push('DEL'),
    { backOff: QUICK, onRetry: (e) => events.push(e) },
  );
  assert.equal(r, 'attached');
  assert.deepEqual(calls, ['ADD', 'DEL', 'ADD', 'DEL', 'ADD']);
  assert.deepEqual(
    events.map((e) => [e.attempt, e.delayMs, e.error.code]),
    [
      [1, 1, 11],
      [2, 2, 11],
    ],
  );
});

test('retry: any other error is final at once, no DEL', async () => {
  const calls: string[] = [];
  for (const code of [CniCode.NO_ADDRESS, CniCode.INVALID_CONFIG, CniCode.INTERNAL])
    await assert.rejects(
      retryTransient(
        async () => {
          calls.push('ADD');
          throw new CniError(code, 'no');
        },
        async () => void calls.push('DEL'),
        { backOff: QUICK },
      ),
      { code },
    );
  await assert.rejects(
    retryTransient(
      () => Promise.reject(new Error('not a CNI error')),
      async () => undefined,
      { backOff: QUICK },
    ),
    /not a CNI error/,
  );
  assert.deepEqual(calls, ['ADD', 'ADD', 'ADD']);
});

test('retry: bounded — after the schedule, the last error 11, saying how long; a failed DEL skips that ADD', async () => {
  let adds = 0;
  let dels = 0;
  await assert.rejects(
    retryTransient(
      async () => {
        adds++;
        throw later();
      },
      async () => {
        if (++dels % 2 === 1) throw later(); // still down: no ADD this round
      },
      { backOff: QUICK },
    ),
    (e: CniError) => {
      assert.equal(e.code, 11);
      assert.match(e.message, /the controller is unavailable \(retried 6 times over 0\.0 s\)/);
      return true;
    },
  );
  // schedule [1, 2, 4, 4, 4, 4]: 6 DELs, every other one failing, and one more as it gives up
  assert.equal(dels, 7);
  assert.equal(adds, 1 + 3);
});

test('retry: a DEL failing otherwise than 11 (nothing to delete) does not hold the ADD back', async () => {
  let adds = 0;
  const r = await retryTransient(
    async () => {
      if (++adds < 2) throw later();
      return adds;
    },
    () => Promise.reject(new CniError(CniCode.UNKNOWN_CONTAINER, 'nothing here')),
    { backOff: QUICK },
  );
  assert.equal(r, 2);
});

test('retry: giving up after a half ADD, one more DEL takes what it left; the error stays the ADD’s', async () => {
  const calls: string[] = [];
  await assert.rejects(
    retryTransient(
      async () => {
        calls.push('ADD');
        if (calls.length === 1) throw later();
        throw new CniError(CniCode.NO_ADDRESS, 'pool exhausted');
      },
      async () => {
        calls.push('DEL');
        if (calls.length > 2) throw later(); // the last DEL fails: still the ADD's error
      },
      { backOff: QUICK },
    ),
    { code: CniCode.NO_ADDRESS },
  );
  assert.deepEqual(calls, ['ADD', 'DEL', 'ADD', 'DEL']);
});
