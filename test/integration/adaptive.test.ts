/**
 * Adaptive rounds end to end: rows leave the rounds once their moderated interval is within the
 * precision, by construction rather than by luck. UDP at 20 Mbit/s delivers exactly 20 Mbit/s on
 * every kernel path, so its ratios to host are 1 to a tenth of a percent; single-stream TCP moves
 * by percents. With a precision of ±0.5% the udp rows (and host's udp row, which nothing needs
 * any more) leave after the minimum of 2 rounds, while the tcp rows and their baseline go on to
 * --max-rounds; the run warns that ±0.5% is beyond what 4 rounds can reach for tcp.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resultsSchema } from '../../src/run/results-schema';
import { assertNothingLeft, cli, rootSnapshot } from './helpers';

test('a row within the precision leaves the rounds; the rest and their baseline go on', async (t) => {
  const lab = 't-adaptive';
  const dir = mkdtempSync(join(tmpdir(), 'cnilab-adaptive-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const out = join(dir, 'run');
  const root = await rootSnapshot();
  const r = await cli([
    'run',
    '--lab',
    lab,
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
    '0.5',
    '--min-rounds',
    '2',
    '--max-rounds',
    '4',
    '--seed',
    '11',
    '--out',
    out,
  ]);
  assert.equal(r.code, 0, r.stderr);
  await assertNothingLeft(lab, root);
  const res = resultsSchema.parse(JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')));
  const samples = (arch: string, test: string): number =>
    res.rows.find((x) => x.arch === arch && x.test === test)!.metrics.gbps!.n;
  for (const arch of ['host', 'flannel-host-gw', 'macvlan', 'flannel-vxlan']) {
    assert.equal(samples(arch, 'udp'), 2, `${arch} udp: left after the minimum`);
    assert.equal(samples(arch, 'tcp'), 4, `${arch} tcp: sampled to --max-rounds`);
  }
  assert.equal(res.schedule.rounds, 4);
  assert.equal(res.schedule.stopped, 'rounds');
  assert.deepEqual(
    res.schedule.left!.map((l) => `${l.row.split(' ')[0]} ${l.row.split(' ')[2]} ${l.round} ${l.why}`).sort(),
    [
      'flannel-host-gw udp 2 within precision',
      'flannel-vxlan udp 2 within precision',
      'host udp 2 within precision',
      'macvlan udp 2 within precision',
    ],
  );
  // Rounds 3 and 4 held the three tcp rows and host's: no udp row in their order.
  assert.deepEqual(
    res.schedule.held!.map((h) => [h.round, h.rows]),
    [
      [3, 4],
      [4, 4],
    ],
  );
  for (const order of res.schedule.order.slice(2))
    assert.ok(
      order.every((k) => k.includes(' tcp ')),
      order.join(', '),
    );
  for (const x of res.rows.filter((x) => x.test === 'udp' && x.arch !== 'host')) {
    assert.equal(x.resolved, true, `${x.arch} udp resolved`);
    const m = x.ratio!.moderated!;
    assert.ok(m.halfWidthPct <= 0.5 && m.ci95.low <= x.ratio!.geomean && x.ratio!.geomean <= m.ci95.high);
    // The moderated interval is symmetric in log space around the geometric mean.
    assert.ok(Math.abs(Math.log(m.ci95.high / x.ratio!.geomean) + Math.log(m.ci95.low / x.ratio!.geomean)) < 1e-3);
  }
  // The udp rows are within ±3% of each other, step by step: equivalent — an answer, not "≈ we cannot tell".
  const udp = res.claims.rankings.find((g) => g.test === 'udp')!;
  assert.ok(
    udp.steps.every((s) => s.verdict === 'equivalent'),
    JSON.stringify(udp.steps),
  );
  assert.match(r.stdout, /^warning: --precision ±0\.5% is below what --max-rounds 4 can reach: about ±\d/m);
  assert.match(r.stdout, /4 rows left the rounds early once within ±0\.5% \(moderated\)/);
  assert.equal(res.settings.equivalencePct, 3);
  assert.ok(res.noise.moderation!.groups.some((g) => g.group === 'udp' && g.rows === 3));
});
