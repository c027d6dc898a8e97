/**
 * `cnilab run --underlay-mtu`: each MTU in labs of its own, rows paired with host of the same MTU. The same run
 * measures the mtu test after the rounds in each MTU's labs (flannel-vxlan's tunnel takes 50 bytes at either): in
 * results.json, the report and the terminal. (mtu.test.ts measures a path without a tunnel, flannel-host-gw's.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MtuJson } from '../../src/run/mtu/schema';
import { publishedResultsSchema } from '../../src/run/results-published';
import { assertNothingLeft, cli, rootSnapshot, runInTemp } from './helpers';

test('run --underlay-mtu 1500,9000 --tests tcp,mtu: labs per MTU, rows carry it, ratios to host of the same MTU, each MTU lab measured', async (t) => {
  const lab = 't-link-mtu';
  const { r, out, root } = await runInTemp(t, lab, [
    ...['--arch', 'host,flannel-vxlan', '--path', 'inter-node', '--tests', 'tcp,mtu'],
    ...['--underlay-mtu', '1500,9000', '--duration', '1', '--repeats', '1', '--seed', '3'],
  ]);
  assert.equal(r.code, 0, r.stderr);
  const res = publishedResultsSchema.parse(JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')));
  assert.deepEqual(res.lab.underlayMtus, [1500, 9000]);
  assert.deepEqual(res.schedule.labs, {
    'host mtu 1500': `${lab}-host-m1500`,
    'host mtu 9000': `${lab}-host-m9000`,
    'flannel-vxlan mtu 1500': `${lab}-flannel-vxlan-m1500`,
    'flannel-vxlan mtu 9000': `${lab}-flannel-vxlan-m9000`,
  });
  assert.deepEqual(
    res.rows.map((x) => [x.arch, x.underlayMtu, x.ratio?.n ?? null]),
    [
      ['host', 1500, null],
      ['host', 9000, null],
      ['flannel-vxlan', 1500, 1],
      ['flannel-vxlan', 9000, 1],
    ],
  );
  // Paired with host of the same MTU: the ratio is the row's sample over that host's.
  for (const x of res.rows.filter((y) => y.arch !== 'host')) {
    const host = res.rows.find((y) => y.arch === 'host' && y.underlayMtu === x.underlayMtu)!;
    assert.ok(Math.abs(x.ratio!.ratios[0]! - x.metrics.gbps!.samples[0]! / host.metrics.gbps!.samples[0]!) < 1e-3);
  }
  assert.deepEqual(
    res.paths
      .filter((p) => p.arch === 'flannel-vxlan')
      .map((p) => [p.underlayMtu, p.mtu])
      .sort((a, b) => a[0]! - b[0]!),
    [
      [1500, 1450],
      [9000, 8950],
    ],
    'the pods take the MTU of their underlay, less the tunnel',
  );
  assert.deepEqual(
    res.claims.rankings.map((g) => g.underlayMtu),
    [],
    'one architecture besides host: nothing to rank',
  );
  assert.match(r.stdout, /^ARCH\s+PATH\s+MTU\s+TEST\s+MEDIAN/m);
  assert.match(r.stdout, /^flannel-vxlan\s+inter-node\s+9000\s+tcp\s+\d+\.\d\d Gbit\/s/m);
  assert.match(
    r.stdout,
    /of host = geometric mean of the same-round ratios to host of the same underlay MTU \(1500, 9000\)/,
  );
  assert.ok(existsSync(join(out, 'flannel-vxlan-m9000.conflist')));
  assert.match(readFileSync(join(out, 'report.html'), 'utf8'), /<h2>Underlay MTU side by side<\/h2>/);
  assert.match(readFileSync(join(out, 'results.csv'), 'utf8'), /^arch,family,path,underlay_mtu,test,/);
  // The mtu test, after the rounds, in each MTU's labs.
  const m = res.afterRounds!['mtu'] as MtuJson;
  assert.deepEqual(
    m.archs.map((x) => [x.arch, x.lab, x.underlayMtu, x.podMtu, x.largestPacket, x.overhead, x.above.mode]),
    [
      ['flannel-vxlan', `${lab}-flannel-vxlan-m1500`, 1500, 1450, 1450, 50, 'loud'],
      ['flannel-vxlan', `${lab}-flannel-vxlan-m9000`, 9000, 8950, 8950, 50, 'loud'],
    ],
  );
  assert.match(readFileSync(join(out, 'report.html'), 'utf8'), /<h2 id="mtu">MTU, measured<\/h2>/);
  assert.match(r.stdout, /^ {2}flannel-vxlan\s+9000\s+8950\s+8950\s+50 {2}loud: refused by the sender \(mtu 8950\)$/m);
  await assertNothingLeft(lab, root);
});

test('--underlay-mtu refuses what is not an MTU: one line, non-zero exit, nothing built', async () => {
  const root = await rootSnapshot();
  for (const [v, re] of [
    ['1500,9001', /^cnilab: --underlay-mtu: "9001" must be a whole number from 1280 to 9000, e\.g\. 1500,9000\n$/],
    ['jumbo', /^cnilab: --underlay-mtu: "jumbo" must be a whole number from 1280 to 9000/],
  ] as const) {
    const r = await cli(['run', '--lab', 't-link-mtu-bad', '--underlay-mtu', v]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, re);
  }
  await assertNothingLeft('t-link-mtu-bad', root);
});
