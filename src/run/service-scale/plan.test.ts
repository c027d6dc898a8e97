import { test } from 'node:test';
import assert from 'node:assert/strict';
import { architectures } from '../../arch';
import type { Architecture } from '../../arch/architecture';
import type { FeatureReport } from '../../doctor/features';
import { isCnilabError } from '../../lib/errors';
import { parseTopology } from '../../topology/load';
import { afterSettings } from '../after';
import { serviceCounts } from './flags';
import { checkServiceCounts, planServiceScale, SERVICE_SCALE_MAX } from './plan';

const ALL_OK = new Proxy({}, { get: (_t, f) => ({ feature: f, ok: true, detail: 'ok' }) }) as FeatureReport;
const arch = (n: string): Architecture => architectures.get(n);
/** A run's variant of `base` with a Service proxy, as --proxy makes it. */
const proxied = (base: string, proxy: string): Architecture => ({
  ...arch(base),
  name: `${base}+${proxy}`,
  proxied: { base, proxy },
});

test('service-scale plan: the proxied variants only; the others skipped naming --proxy, the baseline for its lack of pods', () => {
  const { cells, skipped } = planServiceScale({
    topology: parseTopology('', 'd'),
    archs: [arch('host'), arch('flannel-vxlan'), proxied('flannel-vxlan', 'nftables'), proxied('calico-bgp', 'ebpf')],
    features: ALL_OK,
  });
  assert.deepEqual(
    cells.map((c) => `${c.arch.name} ${c.proxy} ${c.client} → ${c.backends.join(',')}`),
    [
      'flannel-vxlan+nftables nftables node1-p1 → node2-p1,node2-p2',
      'calico-bgp+ebpf ebpf node1-p1 → node2-p1,node2-p2',
    ],
  );
  assert.deepEqual(
    skipped.map((s) => `${s.arch}: ${s.reason}`),
    [
      'host: no pods: no Service to measure',
      'flannel-vxlan: needs a Service proxy: add --proxy iptables,nftables,ebpf',
    ],
  );
  assert.ok(skipped.every((s) => s.test === 'service-scale'));
});

test('service-scale plan: a proxy whose feature is missing, or a topology without two backends on another node, skipped with why', () => {
  const noIpvs = new Proxy(
    {},
    { get: (_t, f) => ({ feature: f, ok: f !== 'ip_vs', detail: 'no ip_vs' }) },
  ) as FeatureReport;
  const ipvs = planServiceScale({
    topology: parseTopology('', 'd'),
    archs: [proxied('flannel-vxlan', 'ipvs')],
    features: noIpvs,
  });
  assert.equal(ipvs.cells.length, 0);
  assert.match(ipvs.skipped[0]!.reason, /^proxy ipvs: /);
  const one = parseTopology('topology: {defaults: {pods: 1}, computeNodes: 2}', 't');
  const p = planServiceScale({ topology: one, archs: [proxied('flannel-vxlan', 'nftables')], features: ALL_OK });
  assert.deepEqual(p.cells, []);
  assert.match(p.skipped[0]!.reason, /two on another \(the client, the probed backends\)/);
});

test('--service-counts: sorted once, default 1,1000,5000; bad input one line naming the flag and what fits', () => {
  assert.deepEqual(serviceCounts('30000,1, 1000,1'), [1, 1000, 30000]);
  assert.deepEqual(afterSettings(['service-scale'], {}).get('service-scale'), {
    counts: [1, 1000, 5000],
    connections: 1000,
    changes: 10,
  });
  assert.deepEqual(
    (afterSettings(['service-scale'], {}, { serviceCounts: [50, 1] }).get('service-scale') as { counts: number[] })
      .counts,
    [1, 50],
  );
  assert.throws(
    () => afterSettings(['tcp'], { serviceCounts: [1] }),
    (e: unknown) =>
      isCnilabError(e, 'INVALID_INPUT') &&
      e.message === '--service-counts: only with the service-scale test; add it: --tests tcp,service-scale',
  );
  for (const bad of ['0', '-1', '1.5', 'many', '', ','])
    assert.throws(
      () => serviceCounts(bad),
      (e: unknown) => isCnilabError(e, 'INVALID_INPUT') && /^--service-counts: [^\n]+$/.test(e.message),
    );
  assert.throws(
    () => serviceCounts(String(SERVICE_SCALE_MAX + 1)),
    (e: unknown) =>
      isCnilabError(e, 'INVALID_INPUT') &&
      e.message ===
        '--service-counts: 30001 is more than this machine was measured to hold (30000 Services: memory and load ' +
          'time, docs/services.md); give at most 30000',
  );
});

test('service counts against the ClusterIP range: what the range has free beside its own Services', () => {
  const d = parseTopology('', 'd');
  assert.deepEqual(checkServiceCounts(d, [30000, 1]), [1, 30000]);
  const small = parseTopology(
    'topology: {services: {cidr: 10.96.0.0/22, list: [{name: web, ports: [{port: 80}], selector: {app: web}}]}}',
    't',
  );
  // /22: 1,024 addresses, less network, broadcast and the first host (the kubernetes Service's), less web's.
  assert.deepEqual(checkServiceCounts(small, [1020]), [1020]);
  assert.throws(
    () => checkServiceCounts(small, [1, 1021]),
    (e: unknown) =>
      isCnilabError(e, 'INVALID_INPUT') &&
      e.message ===
        '--service-counts: 1021 Services do not fit the ClusterIP range 10.96.0.0/22: it has 1020 addresses free; ' +
          'give at most 1020, or a larger services.cidr',
  );
});
