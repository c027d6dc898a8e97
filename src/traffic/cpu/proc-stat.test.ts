import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpuSplit, parseProcStat } from './proc-stat';

// Recorded from this machine's /proc/stat (first lines), a few seconds apart.
const BEFORE = 'cpu  14319 0 10041 128193 354 0 2902 0 0 0\ncpu0 7000 0 5000 64000 200 0 1500 0 0 0\nintr 1\n';
const AFTER = 'cpu  14369 0 10121 128253 354 0 2962 0 0 0\ncpu0 7025 0 5040 64030 200 0 1530 0 0 0\nintr 2\n';

test('parses the aggregate cpu line', () => {
  assert.deepEqual(parseProcStat(BEFORE), {
    user: 14319,
    nice: 0,
    system: 10041,
    idle: 128193,
    iowait: 354,
    irq: 0,
    softirq: 2902,
    steal: 0,
  });
});

test('splits busy time into user, system and softirq as % of all CPUs', () => {
  // Deltas: user 50, system 80, idle 60, softirq 60 → total 250.
  assert.deepEqual(cpuSplit(parseProcStat(BEFORE), parseProcStat(AFTER)), {
    user: 20,
    system: 32,
    softirq: 24,
    busy: 76,
  });
});

test('rejects a malformed /proc/stat', () => {
  assert.throws(() => parseProcStat('intr 1\n'), /no aggregate "cpu" line/);
  assert.throws(() => parseProcStat('cpu  1 2 x\n'), /malformed/);
});
