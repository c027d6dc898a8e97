/**
 * `cnilab run --ip-family 4,6`: each family in single-stack labs of its own, rows carrying it and
 * paired with host of the same family, IPv6 judged against its IPv4 twin, the tools held to the
 * family (iperf3's connections checked), sockperf's IPv6 rows skipped with the reason, rtt (iperf2's
 * round trips) in both families with its flow's address checked, attach per family; the IPv6 labs'
 * pods with no IPv4 address.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resultsSchema } from '../../src/run/results-schema';
import { assertNothingLeft, cli, rootSnapshot } from './helpers';

test('run --ip-family 4,6: labs per family, rows carry it, paired with host of theirs, v6 against v4 judged', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cnilab-ipf-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const lab = 't-ipf';
  const out = join(dir, 'run');
  const root = await rootSnapshot();
  const r = await cli([
    ...['run', '--lab', lab, '--arch', 'host,flannel-host-gw', '--path', 'inter-node'],
    ...['--tests', 'tcp,latency,rtt,attach', '--attach-sizes', '6', '--attach-samples', '2'],
    ...['--ip-family', '4,6', '--duration', '1', '--repeats', '2', '--seed', '5', '--out', out],
  ]);
  assert.equal(r.code, 0, r.stderr);
  const res = resultsSchema.parse(JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')));
  assert.deepEqual(res.lab.ipFamilies, [4, 6]);
  assert.equal(res.lab.ipFamilyDimension, true);
  assert.deepEqual(res.schedule.labs, {
    'host IPv4': `${lab}-host-v4`,
    'host IPv6': `${lab}-host-v6`,
    'flannel-host-gw IPv4': `${lab}-flannel-host-gw-v4`,
    'flannel-host-gw IPv6': `${lab}-flannel-host-gw-v6`,
  });
  assert.deepEqual(
    res.rows.map((x) => [x.arch, x.test, x.ipFamily]),
    [
      ['host', 'tcp', 4],
      ['host', 'latency', 4],
      ['host', 'rtt', 4],
      ['host', 'tcp', 6],
      ['host', 'rtt', 6],
      ['flannel-host-gw', 'tcp', 4],
      ['flannel-host-gw', 'latency', 4],
      ['flannel-host-gw', 'rtt', 4],
      ['flannel-host-gw', 'tcp', 6],
      ['flannel-host-gw', 'rtt', 6],
    ],
  );
  // rtt in both families, the same tool: each sample's flow was checked to be of its family and to the server's
  // address (iperf2's "connected with" line, traffic/iperf2/parse.ts), else the row would have failed.
  for (const x of res.rows.filter((y) => y.test === 'rtt')) {
    assert.equal(x.primary, 'rttMeanUs');
    assert.equal(x.metrics.rttMeanUs!.samples.length, 2, `${x.arch} IPv${x.ipFamily}`);
    for (const us of x.metrics.rttMeanUs!.samples) assert.ok(us > 1 && us < 10_000, `${x.arch}: ${us} µs`);
  }
  assert.match(res.environment.iperf2!, /^2\./);
  assert.ok(res.skipped.filter((s) => s.test === 'latency').every((s) => /use --tests rtt/.test(s.reason)));
  assert.deepEqual(
    res.skipped.filter((s) => s.test === 'latency').map((s) => [s.arch, s.ipFamily]),
    [
      ['host', 6],
      ['flannel-host-gw', 6],
    ],
  );
  // Paired with host of the same family: the ratio is the row's sample over that host's.
  for (const x of res.rows.filter((y) => y.arch !== 'host' && y.test === 'tcp')) {
    const host = res.rows.find((y) => y.arch === 'host' && y.test === 'tcp' && y.ipFamily === x.ipFamily)!;
    assert.ok(Math.abs(x.ratio!.ratios[0]! - x.metrics.gbps!.samples[0]! / host.metrics.gbps!.samples[0]!) < 1e-3);
  }
  assert.deepEqual(
    res.claims.families?.map((f) => [f.arch, f.test, f.ratio.n]),
    [
      ['host', 'tcp', 2],
      ['host', 'rtt', 2],
      ['flannel-host-gw', 'tcp', 2],
      ['flannel-host-gw', 'rtt', 2],
    ],
  );
  const attach = (res.afterRounds?.attach ?? { archs: [] }) as { archs: { arch: string; ipFamily?: number }[] };
  assert.deepEqual(
    attach.archs.map((a) => [a.arch, a.ipFamily]),
    [
      ['flannel-host-gw', 4],
      ['flannel-host-gw', 6],
    ],
  );
  // Each family's lab wrote its configuration list; the IPv6 rows' connections were checked to be IPv6 (iperf3's
  // start.connected, traffic/iperf3/parse.ts), else the row would have failed.
  assert.ok(existsSync(join(out, 'flannel-host-gw-v6.conflist')));
  assert.ok(existsSync(join(out, 'flannel-host-gw-v4.conflist')));
  assert.match(r.stdout, /^flannel-host-gw IPv6\s+inter-node\s+tcp\s+\d+\.\d\d Gbit\/s/m);
  assert.match(r.stdout, /IPv6, flannel-host-gw inter-node tcp: \d+% of IPv4 \(/);
  assert.match(r.stdout, /^flannel-host-gw IPv6\s+inter-node\s+rtt\s+\d+(\.\d\d)? µs/m);
  assert.match(readFileSync(join(out, 'report.html'), 'utf8'), /<h3 id="ip-families">IPv6 against IPv4<\/h3>/);
  assert.match(readFileSync(join(out, 'results.csv'), 'utf8'), /^arch,family,path,ip_family,test,/);
  await assertNothingLeft(lab, root);
});

test('--ip-family refuses what is not a family, and a topology asking IPv6 of an IPv4-only architecture: one line, nothing built', async (t) => {
  const root = await rootSnapshot();
  const r = await cli(['run', '--lab', 't-ipf-bad', '--ip-family', '4,5']);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /^cnilab: --ip-family: "5" must be 4 or 6, e\.g\. 4,6\n$/);
  const dir = mkdtempSync(join(tmpdir(), 'cnilab-ipf-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const topo = join(dir, 'v6.yaml');
  writeFileSync(topo, 'name: t-ipf-bad\ntopology:\n  ipFamilies: [ipv6]\n');
  const up = await cli(['up', '--topology', topo, '--arch', 'kuryr-ovs-vxlan']);
  assert.notEqual(up.code, 0);
  assert.match(
    up.stderr,
    /^cnilab: architecture kuryr-ovs-vxlan: ipFamilies: Kuryr is IPv4 only here, as in the paper/,
  );
  assert.equal(up.stderr.trim().split('\n').length, 1);
  await assertNothingLeft('t-ipf-bad', root);
});
