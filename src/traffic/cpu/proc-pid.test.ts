import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addDelta, cpuPercent, parseIoSyscalls, parsePidStat, parseStatusSwitches, ZERO } from './proc-pid';

// Recorded from a cnilab agent on this machine (the command name holds a space and parentheses).
const STAT =
  '27581 (node (agent) x) S 27580 27580 27580 0 -1 4194560 6571 0 0 0 812 1630 0 0 20 0 11 0 123456 1234567680 ' +
  '15000 18446744073709551615 1 1 0 0 0 0 0 4096 0 0 0 0 17 1 0 0 0 0 0';
const STATUS = 'Name:\tnode\nState:\tS (sleeping)\nvoluntary_ctxt_switches:\t29\nnonvoluntary_ctxt_switches:\t57\n';
const IO =
  'rchar: 12345\nwchar: 678\nsyscr: 788\nsyscw: 344\nread_bytes: 0\nwrite_bytes: 0\ncancelled_write_bytes: 0\n';

test('parses utime and stime after a command name with spaces and parentheses', () => {
  assert.deepEqual(parsePidStat(STAT), { utime: 812, stime: 1630 });
  assert.throws(() => parsePidStat('1 (x) S'), /malformed/);
});

test('parses context switches and read/write system calls', () => {
  assert.deepEqual(parseStatusSwitches(STATUS), { voluntary: 29, involuntary: 57 });
  assert.equal(parseIoSyscalls(IO), 1132);
});

test('deltas add up over intervals; CPU is % of one core', () => {
  const a = { utime: 10, stime: 20, voluntary: 5, involuntary: 1, syscalls: 100 };
  const b = { utime: 60, stime: 120, voluntary: 9, involuntary: 3, syscalls: 400 };
  assert.deepEqual(addDelta(addDelta(ZERO, a, b), a, b), {
    utime: 100,
    stime: 200,
    voluntary: 8,
    involuntary: 4,
    syscalls: 600,
  });
  assert.equal(cpuPercent(150, 2), 75);
});
