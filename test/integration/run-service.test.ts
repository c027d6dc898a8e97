/**
 * `cnilab run --proxy`: the Service hop in the rounds. Each architecture with pods gets a lab per
 * proxy mode (`<arch>+<mode>`) holding the run's Service; the service path dials its ClusterIP and
 * is paired, as every row is, with host — beside the same pods talking directly (inter-node).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { resultsSchema } from '../../src/run/results-schema';
import { assertNothingLeft, cli, rootSnapshot, runInTemp } from './helpers';

test('run --proxy nftables,ebpf: a lab per mode, the service path through its ClusterIP, crr rows, rows carry proxy', async (t) => {
  const lab = 't-svc-run';
  const { r, out, root } = await runInTemp(t, lab, [
    ...['--arch', 'host,flannel-vxlan', '--proxy', 'nftables,ebpf'],
    ...['--path', 'inter-node,service', '--tests', 'tcp,latency,crr,service-scale', '--service-counts', '1,10'],
    ...['--duration', '1', '--latency-duration', '1', '--repeats', '1', '--seed', '5'],
  ]);
  assert.equal(r.code, 0, r.stderr);
  const res = resultsSchema.parse(JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')));
  assert.equal(res.schemaVersion, 8);
  assert.deepEqual(res.schedule.labs, {
    host: `${lab}-host`,
    'flannel-vxlan+nftables': `${lab}-flannel-vxlan-nftables`,
    'flannel-vxlan+ebpf': `${lab}-flannel-vxlan-ebpf`,
  });
  const rows = res.rows.map((x) => `${x.arch} ${x.path} ${x.test} ${x.proxy ?? '-'}`);
  for (const mode of ['nftables', 'ebpf'])
    for (const path of ['inter-node', 'service'])
      for (const test of ['tcp', 'latency', 'crr'])
        assert.ok(rows.includes(`flannel-vxlan+${mode} ${path} ${test} ${mode}`), `${mode} ${path} ${test}: ${rows}`);
  assert.ok(rows.includes('host inter-node crr -'), "host's crr: the tool's ceiling on this machine");
  assert.deepEqual(
    res.skipped.map((s) => `${s.arch} ${s.path ?? s.test}`),
    ['host service', 'host service-scale'],
    'host has no pods: its service path skips, with its reason',
  );
  // Every service row was measured through the ClusterIP: its servers listen only on the pod's
  // address, at the Service's targetPorts, so a sample that answered went through the proxy.
  for (const x of res.rows.filter((y) => y.path === 'service')) {
    const v = x.metrics[x.primary]!.median;
    assert.ok(v > 0, `${x.arch} ${x.test}: ${v}`);
    assert.equal(x.server, 'node2-p1');
    assert.notEqual(x.ratio, null, 'paired with host');
  }
  const crr = res.rows.find((y) => y.arch === 'flannel-vxlan+nftables' && y.path === 'service' && y.test === 'crr')!;
  assert.equal(crr.primary, 'connPerSec');
  assert.ok(
    crr.metrics.connectP50Us!.median > 0 && crr.metrics.connectP99Us!.median >= crr.metrics.connectP50Us!.median,
  );
  assert.deepEqual(
    res.architectures.filter((a) => a.name.includes('+')).map((a) => [a.name, a.family]),
    [
      ['flannel-vxlan+nftables', 'overlay'],
      ['flannel-vxlan+ebpf', 'overlay'],
    ],
  );
  // What the proxy runs on is recorded with the data path (iptables' would name its backend).
  const nft = res.architectures.find((a) => a.name === 'flannel-vxlan+nftables')!;
  assert.match(nft.datapath ?? '', /^kernel; Services: nftables proxy on nft v\d/);
  assert.match(r.stdout, /^flannel-vxlan\+ebpf\s+service\s+crr\s+/m);
  // What the hop costs: each service row over the same pods talking directly, in its own lab.
  assert.deepEqual(
    res.claims.serviceHop?.map((h) => `${h.arch} ${h.test}`),
    ['nftables', 'ebpf'].flatMap((m) => ['tcp', 'latency', 'crr'].map((x) => `flannel-vxlan+${m} ${x}`)),
  );
  assert.match(r.stdout, /^ {2}Service hop, flannel-vxlan\+nftables, crr: through the ClusterIP \d+% of direct/m);
  const html = readFileSync(join(out, 'report.html'), 'utf8');
  assert.match(html, /<h3 id="service-hop">The Service hop<\/h3>/);
  // service-scale after the rounds, in the same proxied labs: each proxy at each count.
  const scale = res.afterRounds?.['service-scale'] as { archs: { arch: string; counts: { n: number }[] }[] };
  assert.deepEqual(
    scale.archs.map((a) => `${a.arch} ${a.counts.map((c) => c.n).join(',')}`),
    ['flannel-vxlan+nftables 1,10', 'flannel-vxlan+ebpf 1,10'],
  );
  assert.match(html, /id="service-scale"/);
  await assertNothingLeft(lab, root);
});

test('run: the service path without a proxy, service as a test, an unknown proxy: one line each, nothing built', async () => {
  const root = await rootSnapshot();
  for (const [args, re] of [
    [['--path', 'service'], /^cnilab: --path: service needs a Service proxy in the labs; add --proxy iptables,/],
    [['--tests', 'service'], /^cnilab: --tests: service is a path, measured by every test: --path service --proxy /],
    [['--proxy', 'nft'], /^cnilab: --proxy: unknown proxy "nft"; known: iptables, nftables, ipvs, ebpf, none\n$/],
  ] as const) {
    const r = await cli(['run', '--lab', 't-svc-bad', ...args]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, re);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
  await assertNothingLeft('t-svc-bad', root);
});
