import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Pool } from './pool';

test('a pool runs at most its size at once, in order, and gives the slot back on failure', async () => {
  const pool = new Pool(3);
  let now = 0;
  let most = 0;
  const started: number[] = [];
  const release: (() => void)[] = [];
  const tasks = Array.from({ length: 10 }, (_, i) =>
    pool.run(async () => {
      started.push(i);
      most = Math.max(most, ++now);
      await new Promise<void>((r) => release.push(r));
      now--;
      if (i === 4) throw new Error('task 4 failed');
      return i;
    }),
  );
  const settled = Promise.allSettled(tasks);
  while (started.length < 10) {
    await new Promise((r) => setImmediate(r));
    assert.ok(now <= 3);
    release.shift()?.();
  }
  while (release.length) release.shift()!();
  const results = await settled;
  assert.equal(most, 3);
  assert.deepEqual(started, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.equal(results.filter((r) => r.status === 'rejected').length, 1);
  assert.throws(() => new Pool(0), /at least 1/);
});

const fewestTasksTitle =
  "a free slot goes to the key with the fewest tasks running: one node's queue does not hold " + 'every slot';
test(fewestTasksTitle, async () => {
  const pool = new Pool(2);
  const order: string[] = [];
  const release: (() => void)[] = [];
  const task = (name: string) => () => {
    order.push(name);
    return new Promise<void>((r) => release.push(r));
  };
  const all = Promise.all([
    pool.run(task('a1'), 'a'),
    pool.run(task('a2'), 'a'),
    pool.run(task('a3'), 'a'),
    pool.run(task('b1'), 'b'),
  ]);
  await new Promise((r) => setImmediate(r));
  release.shift()!(); // a1 ends: a has 1 running, b none — b1 goes before a3
  await new Promise((r) => setImmediate(r));
  while (release.length) {
    release.shift()!();
    await new Promise((r) => setImmediate(r));
  }
  await all;
  assert.deepEqual(order, ['a1', 'a2', 'b1', 'a3']);
});
