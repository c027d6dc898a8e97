import { test } from 'node:test';
import assert from 'node:assert/strict';
import { judgeNoise, readNoise, type NoiseReading } from './noise';
import { labName, memoryVerdict } from './labs';
import { nextRound } from './rounds';

const cpu = (o: Partial<Record<string, number>>) =>
  ({ user: 0, nice: 0, system: 0, idle: 0, iowait: 0, irq: 0, softirq: 0, steal: 0, ...o }) as NoiseReading['cpu'];
/** A reading; outside processes as [pid, ticks, command] (command: p<PID> unless given). */
const reading = (c: Partial<Record<string, number>>, outside: [number, number, string?][] = []): NoiseReading => ({
  cpu: cpu(c),
  outside: new Map(outside.map(([pid, ticks, comm]) => [pid, { comm: comm ?? `p${pid}`, ticks }])),
});

test('judgeNoise: steal and outside CPU as % of all CPU time, against the limits', () => {
  const before = reading({ user: 100, idle: 100 }, [[10, 5]]);
  const calm = judgeNoise(before, reading({ user: 150, idle: 146, steal: 4 }, [[10, 7, 'x']]), 0.5, {
    stealPct: 5,
    outsidePct: 10,
  });
  // 100 ticks passed: 4 stolen, process 10 used 2.
  assert.deepEqual(calm, { stealPct: 4, outsidePct: 2, top: 'x (PID 10)', load1: 0.5, disturbed: false });
  const busy = judgeNoise(
    before,
    reading({ user: 150, idle: 150 }, [
      [10, 5],
      [11, 30],
    ]),
    1,
    {
      stealPct: 5,
      outsidePct: 10,
    },
  );
  assert.equal(busy.outsidePct, 30, 'a process that started during the sample counts from 0');
  assert.equal(busy.top, 'p11 (PID 11)');
  assert.equal(busy.disturbed, true);
  const stolen = judgeNoise(before, reading({ user: 150, idle: 140, steal: 10 }), 0, { stealPct: 5, outsidePct: 10 });
  assert.equal(stolen.disturbed, true);
});

test('readNoise: this process is never outside; kernel threads are not counted', () => {
  const r = readNoise(new Set());
  assert.equal(r.outside.has(process.pid), false);
  assert.equal(r.outside.has(2), false, 'kthreadd');
  assert.ok(r.cpu.idle > 0);
});

test('lab names: the run’s name, cut to fit 32 characters, then the architecture', () => {
  assert.equal(labName('cnilab', 'flannel-vxlan'), 'cnilab-flannel-vxlan');
  const long = labName('a-very-long-lab-name-indeed', 'flannel-vxlan-direct');
  assert.ok(long.length <= 32 && long.endsWith('-flannel-vxlan-direct'), long);
  assert.ok(/^[a-z0-9][a-z0-9-]*$/.test(labName('ab-', 'host')));
});

test('memory: enough for every lab at once, or why not', () => {
  assert.equal(memoryVerdict(11, 24000), undefined);
  assert.match(memoryVerdict(11, 1500)!, /^11 labs up at once need about 2674 MiB .*; 1500 MiB is available$/);
});

test('nextRound: fixed rounds, the minimum, convergence, the maximum, the budget', () => {
  const a = { round: 3, open: 2, elapsedSec: 200, perRoundSec: 60, teardownSec: 5 };
  const adaptive = { min: 3, max: 10, precisionPct: 5, budgetSec: 300 };
  assert.equal(nextRound({ fixed: 3 }, a), 'rounds');
  assert.equal(nextRound({ fixed: 4 }, a), 'another');
  assert.equal(nextRound(adaptive, { ...a, round: 2 }), 'another', 'below the minimum, whatever the budget');
  assert.equal(nextRound(adaptive, { ...a, open: 0 }), 'converged');
  assert.equal(nextRound(adaptive, a), 'another', '200 + 60 + 5 ≤ 300');
  assert.equal(nextRound(adaptive, { ...a, elapsedSec: 240 }), 'budget', '240 + 60 + 5 > 300');
  assert.equal(nextRound({ ...adaptive, max: 3 }, a), 'rounds');
});
