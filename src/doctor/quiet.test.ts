import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CpuTimes } from '../traffic/cpu/proc-stat';
import { judgeQuiet, type QuietSample } from './quiet';

const times = (idle: number, steal = 0, user = 0): CpuTimes => ({
  user,
  nice: 0,
  system: 0,
  idle,
  iowait: 0,
  irq: 0,
  softirq: 0,
  steal,
});
const base: QuietSample = { before: times(0), after: times(200), seconds: 1, cpus: 2, processes: [], load1: 0.1 };
const verdicts = (s: QuietSample): Record<string, boolean> =>
  Object.fromEntries(judgeQuiet(s).map((c) => [c.check, c.ok]));

test('quiet machine: every check passes, each saying why', () => {
  const checks = judgeQuiet(base);
  assert.deepEqual(
    checks.map((c) => c.check),
    ['cpu-busy', 'steal', 'busy-processes', 'load', 'frequency'],
  );
  assert.ok(checks.every((c) => c.ok));
  assert.equal(
    checks.find((c) => c.check === 'frequency')!.advice,
    'the kernel exposes no frequency scaling (a VM: the host decides)',
  );
});

test('a busy machine fails the checks that saw it, with what was found and what to do', () => {
  // 200 ticks over 2 CPUs: 30 user, 10 steal → 20% busy, 5% stolen
  const busy: QuietSample = {
    ...base,
    after: times(160, 10, 30),
    processes: [
      { pid: 42, comm: 'ffmpeg', cpuPct: 25 },
      { pid: 7, comm: 'sshd', cpuPct: 1 },
    ],
    load1: 1.6,
    governors: ['powersave', 'powersave'],
  };
  assert.deepEqual(verdicts(busy), {
    'cpu-busy': false,
    steal: false,
    'busy-processes': false,
    load: false,
    frequency: false,
  });
  const c = Object.fromEntries(judgeQuiet(busy).map((x) => [x.check, x]));
  assert.equal(c['cpu-busy']!.value, '20.0% of 2 CPUs busy');
  assert.equal(c.steal!.value, '5.0% stolen');
  assert.equal(c['busy-processes']!.value, 'ffmpeg (PID 42) 25.0%', 'only processes above 5% of a core are named');
  assert.match(c.frequency!.advice, /cpupower frequency-set -g performance/);
  assert.deepEqual(verdicts({ ...base, governors: ['performance'] }).frequency, true);
});
