import { test } from 'node:test';
import assert from 'node:assert/strict';
import { untilUp } from './client';

test('untilUp: retries until the attempt succeeds, telling each failure', async () => {
  let n = 0;
  const told: number[] = [];
  const v = await untilUp(() => (++n < 3 ? Promise.reject(new Error('refused')) : Promise.resolve('up')), {
    signal: new AbortController().signal,
    everyMs: 1,
    onRetry: (i) => told.push(i),
  });
  assert.equal(v, 'up');
  assert.deepEqual(told, [0, 1]);
});

test('untilUp: gives up after `tries` with the last failure', async () => {
  let n = 0;
  await assert.rejects(
    untilUp(() => Promise.reject(new Error(`no ${++n}`)), {
      signal: new AbortController().signal,
      tries: 4,
      everyMs: 1,
    }),
    /^Error: no 4$/,
  );
});

test('untilUp: an aborted signal stops the retries', async () => {
  const abort = new AbortController();
  let n = 0;
  await assert.rejects(
    untilUp(
      () => {
        if (++n === 2) abort.abort();
        return Promise.reject(new Error('refused'));
      },
      { signal: abort.signal, everyMs: 1 },
    ),
    /refused/,
  );
  assert.equal(n, 2);
});
