import { test } from 'node:test';
import assert from 'node:assert/strict';
import { count, flag, num, parseBenchArgs, seconds, str, UsageError } from './args';
import { judge, targetLines, type Target } from './targets';

const at = (direction: Target['direction'], threshold: number, extra: Partial<Target> = {}): Target => ({
  name: 'x',
  figure: 'x',
  direction,
  threshold,
  unit: '×',
  why: 'because',
  ...extra,
});
const verdict = (t: Target, x: Parameters<typeof judge>[1][string]) => judge([t], { x })[0]!.verdict;

const numberMeetsTitle =
  'a number meets its target or misses it, by the direction; the threshold itself meets "at least" and "at most"';
test(numberMeetsTitle, () => {
  assert.equal(verdict(at('at least', 1.2), 1.3), 'met');
  assert.equal(verdict(at('at least', 1.2), 1.2), 'met');
  assert.equal(verdict(at('at least', 1.2), 1.1), 'MISSED');
  assert.equal(verdict(at('at most', 0.3), 0.3), 'met');
  assert.equal(verdict(at('at most', 0.3), 0.31), 'MISSED');
  assert.equal(verdict(at('below', 1), 1), 'MISSED');
  assert.equal(verdict(at('below', 1), 0.99), 'met');
});

test('an interval exceeds when wholly on the target side, misses when wholly off it, and is met in between', () => {
  const floor = at('at least', 0.95);
  assert.equal(verdict(floor, { value: 1, low: 0.95, high: 1.05, n: 5 }), 'exceeded');
  assert.equal(verdict(floor, { value: 0.9, low: 0.85, high: 0.94 }), 'MISSED');
  assert.equal(verdict(floor, { value: 0.96, low: 0.9, high: 1.02 }), 'met');
  const ceiling = at('at most', 1);
  assert.equal(verdict(ceiling, { value: 0.8, low: 0.7, high: 0.9 }), 'exceeded');
  assert.equal(verdict(ceiling, { value: 1.2, low: 1.1, high: 1.3 }), 'MISSED');
  const j = judge([floor], { x: { value: 0.96, low: 0.9, high: 1.02, n: 5 } })[0]!;
  assert.deepEqual([j.value, j.low, j.high, j.n], [0.96, 0.9, 1.02, 5]);
});

test('a stretch goal missed is "missed", not MISSED; an absent or NaN figure is "not measured"', () => {
  assert.equal(verdict(at('at least', 0.75, { stretch: true }), 0.6), 'missed');
  assert.equal(verdict(at('at least', 0.75), undefined), 'not measured');
  assert.equal(verdict(at('at least', 0.75), NaN), 'not measured');
  assert.equal(verdict(at('at least', 0.75), { figure: undefined, detail: 'no row' }), 'not measured');
  assert.equal(judge([at('at least', 0.75)], {})[0]!.verdict, 'not measured');
});

const judgedTargetsTitle =
  'the judged targets keep their declaration and carry the detail; the lines say figure, threshold, verdict ' +
  'and, when missed, why';
test(judgedTargetsTitle, () => {
  const t = at('at most', 5, { name: 'worst CoV', figure: 'cov', unit: '%', why: 'the flag' });
  const [j] = judge([t], { cov: { figure: 7, detail: '3 rows unstable' } });
  assert.deepEqual(j, { ...t, value: 7, detail: '3 rows unstable', verdict: 'MISSED' });
  assert.deepEqual(targetLines([j!]), [
    'Targets:',
    '  worst CoV: 7.00%   target ≤ 5.00%: MISSED',
    '    3 rows unstable',
    '    why this target: the flag',
  ]);
  const [i] = judge([at('at least', 0.95, { name: 'a/b' })], { x: { value: 0.97, low: 0.9, high: 1.1, n: 5 } });
  assert.deepEqual(targetLines([i!]), ['Targets:', '  a/b: 0.97× (0.90–1.10, 5 rounds)   target ≥ 0.95×: met']);
  assert.deepEqual(targetLines([]), []);
});

const SPEC = {
  duration: seconds(3),
  rounds: count(5),
  seed: num(7, { integer: true }),
  keep: str(),
  arch: str('a'),
  'no-perf': flag,
};

test('the parser: defaults without options, values with them, --json for every benchmark', () => {
  assert.deepEqual(parseBenchArgs(SPEC, []), {
    json: false,
    duration: 3,
    rounds: 5,
    seed: 7,
    keep: undefined,
    arch: 'a',
    'no-perf': false,
  });
  assert.deepEqual(
    parseBenchArgs(SPEC, ['--duration', '0.5', '--rounds=2', '--seed=-3', '--keep', '/tmp/k', '--no-perf', '--json']),
    { json: true, duration: 0.5, rounds: 2, seed: -3, keep: '/tmp/k', arch: 'a', 'no-perf': true },
  );
});

test('the parser refuses an unknown option, a missing value and a number out of its bounds, naming it', () => {
  const refused = (argv: string[], message: RegExp) =>
    assert.throws(
      () => parseBenchArgs(SPEC, argv),
      (e: Error) => e instanceof UsageError && message.test(e.message),
    );
  refused(['--durations', '3'], /durations/);
  refused(['--rounds'], /rounds/);
  refused(['--rounds', 'many'], /--rounds many: not a whole number of at least 1/);
  refused(['--rounds', '1.5'], /--rounds 1.5: not a whole number/);
  refused(['--rounds', '0'], /--rounds 0/);
  refused(['--duration', '0'], /--duration 0: not a number above 0/);
  refused(['--duration', ''], /--duration : not a number/);
  refused(['extra'], /extra/);
});
