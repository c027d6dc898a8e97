import { test } from 'node:test';
import assert from 'node:assert/strict';
import { settleAll } from './settle';

test('throws the first failure only after every promise has settled', async () => {
  const order: string[] = [];
  const slow = new Promise<number>((r) => setTimeout(() => (order.push('slow done'), r(2)), 50));
  const fail = Promise.reject(new Error('boom')).finally(() => order.push('failed'));
  await assert.rejects(settleAll([fail, slow]), /boom/);
  assert.deepEqual(order, ['failed', 'slow done']);
  assert.deepEqual(await settleAll([Promise.resolve(1), Promise.resolve(2)]), [1, 2]);
});
