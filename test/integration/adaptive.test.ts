/**
 * Adaptive rounds end to end: rows leave the rounds once their moderated interval is within the
 * precision, by construction rather than by luck. UDP at 20 Mbit/s delivers exactly 20 Mbit/s on
 * every kernel path, so its ratios to host are 1 to a tenth of a percent; single-stream TCP moves
 * by percents. With a precision of ±2% the udp rows leave once they have the 3 ratios a row needs
 * to leave (round 3), while the tcp rows and their baseline go on to --max-rounds; the run warns
 * when it estimates that ±2% is beyond what 5 rounds can reach for tcp. A loaded machine may lose
 * a burst of datagrams in one round of one row: its ratio then widens the prior the udp rows
 * share (CI saw none of them within ±1% at round 3), so a row may leave a round or two later —
 * but before --max-rounds, and host's udp row stays as long as any udp row does.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { resultsSchema } from '../../src/run/results-schema';
import { assertNothingLeft, runInTemp } from './helpers';

/** Four architectures, TCP and UDP at a fixed rate, a precision only UDP can reach. */
const ARGS = [
  '--arch',
  'host,flannel-host-gw,macvlan,flannel-vxlan',
  '--path',
  'inter-node',
  '--tests',
  'tcp,udp',
  '--udp-rate',
  '20',
  '--duration',
  '1',
  '--precision',
  '2',
  '--min-rounds',
  '2',
  '--max-rounds',
  '5',
  '--seed',
  '11',
];

test('a row within the precision leaves the rounds; the rest and their baseline go on', async (t) => {
  const lab = 't-adaptive';
  const { r, out, root } = await runInTemp(t, lab, ARGS);
  assert.equal(r.code, 0, r.stderr);
  await assertNothingLeft(lab, root);
  const res = resultsSchema.parse(JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')));
  const samples = (arch: string, test: string): number =>
    res.rows.find((x) => x.arch === arch && x.test === test)!.metrics.gbps!.n;
  const pods = ['flannel-host-gw', 'macvlan', 'flannel-vxlan'];
  for (const arch of ['host', ...pods]) assert.equal(samples(arch, 'tcp'), 5, `${arch} tcp: sampled to --max-rounds`);
  const early = pods.filter((a) => samples(a, 'udp') < 5);
  assert.ok(early.length >= 2, `udp rows that left before --max-rounds: ${early.join(', ')}`);
  assert.equal(
    samples('host', 'udp'),
    Math.max(...pods.map((a) => samples(a, 'udp'))),
    'host udp: while any udp row needs it',
  );
  assert.equal(res.schedule.rounds, 5);
  assert.equal(res.schedule.stopped, 'rounds');
  // Every row that left did so after its last sample, and only udp rows left.
  const left = res.schedule.left!;
  for (const a of early)
    assert.ok(
      left.some((l) => l.row.startsWith(`${a} inter-node udp`) && l.round === samples(a, 'udp') && l.round >= 3),
      a,
    );
  for (const l of left) {
    const [arch, , test] = l.row.split(' ');
    assert.equal(test, 'udp', l.row);
    assert.equal(samples(arch!, test!), l.round, l.row);
    assert.equal(l.why, 'within precision');
  }
  // Rounds 3 to 5 were adaptive; each held the tcp rows and the udp rows still open, never a row that had left.
  assert.deepEqual(
    res.schedule.held!.map((h) => h.round),
    [3, 4, 5],
  );
  for (const a of early)
    for (const order of res.schedule.order.slice(samples(a, 'udp')))
      assert.ok(!order.some((k) => k.startsWith(`${a} inter-node udp`)), order.join(', '));
  for (const x of res.rows.filter((x) => x.test === 'udp' && early.includes(x.arch))) {
    assert.equal(x.resolved, true, `${x.arch} udp resolved`);
    const m = x.ratio!.moderated!;
    assert.ok(m.halfWidthPct <= 2 && m.ci95.low <= x.ratio!.geomean && x.ratio!.geomean <= m.ci95.high);
    // The moderated interval is symmetric in log space around the geometric mean.
    assert.ok(Math.abs(Math.log(m.ci95.high / x.ratio!.geomean) + Math.log(m.ci95.low / x.ratio!.geomean)) < 1e-3);
  }
  // The udp rows are within ±3% of each other, step by step: equivalent — an answer, not "≈ we cannot tell".
  const udp = res.claims.rankings.find((g) => g.test === 'udp')!;
  assert.ok(
    udp.steps.every((s) => s.verdict === 'equivalent'),
    JSON.stringify(udp.steps),
  );
  // Whether 5 rounds can reach ±2% for tcp is estimated from rounds 1 and 2, which on a quiet
  // machine may say yes (allocate.test.ts covers the estimate): when the run warns, it says so in
  // one line naming how many of the open rows.
  const warning =
    /^warning: --precision ±2% is below what --max-rounds 5 can reach for (\d) of the (\d) open rows \(the nearest of them about ±\d/m.exec(
      r.stdout,
    );
  if (warning) assert.ok(Number(warning[1]) <= Number(warning[2]) && Number(warning[1]) >= 1, warning[0]);
  else assert.doesNotMatch(r.stdout, /--precision ±2% is below/);
  assert.ok(
    r.stdout.includes(`${left.length} rows left the rounds early once within ±2% (moderated)`),
    'the summary says how many rows left',
  );
  assert.equal(res.settings.equivalencePct, 3);
  assert.ok(res.noise.moderation!.groups.some((g) => g.group === 'udp inter-node' && g.rows === 3));
});
