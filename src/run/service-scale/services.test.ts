import { test } from 'node:test';
import assert from 'node:assert/strict';
import { proxyServices } from '../../apiserver/proxy-view';
import type { ServiceView } from '../../apiserver/model';
import { restoreText } from '../../proxy/iptables/rules';
import type { SyncPlan } from '../../proxy/plan';
import { isCnilabError } from '../../lib/errors';
import { formatIPv4 } from '../../lib/ip';
import { syncTimeoutMs } from './measure';
import { batches, checkOwnServices, fillerName, fillerSpecs, PROBE_SERVICE, probeSpec } from './services';

/** The Services as the API server hands them to a proxy: fillers, the probe (given a low ClusterIP), the lab's own. */
function views(fillers: number): ServiceView[] {
  const ep = [{ pod: 'node2-p1', node: 'node2', ip: '10.244.2.2' }];
  const mk = (name: string, i: number, port: number): ServiceView => ({
    name,
    clusterIp: formatIPv4(0x0a600000 + 2 + i),
    ports: [{ name: '', port, targetPort: port, protocol: 'tcp' }],
    endpoints: ep,
  });
  return [
    mk(PROBE_SERVICE, 0, 80),
    mk('web', 1, 80),
    ...fillerSpecs(1, fillers, 'node2-p1').map((s, i) => mk(s.name, i + 2, 80)),
  ];
}

test("iptables: the probed Service's rule is the last of KUBE-SERVICES, whatever its ClusterIP or creation order", () => {
  const input = {
    node: 'node1',
    clusterCidr: '10.244.0.0/16',
    serviceCidr: '10.96.0.0/16',
    services: proxyServices(views(300)),
  };
  for (const kind of ['full', 'partial'] as const) {
    const plan: SyncPlan = kind === 'full' ? { kind } : { kind, changed: new Set<string>(), stale: [] };
    const rules = restoreText(input, plan)
      .text.split('\n')
      .filter((l) => l.startsWith('-A KUBE-SERVICES ') && l.includes('cluster IP'));
    assert.equal(rules.length, 302);
    assert.match(rules.at(-1)!, new RegExp(`default/${PROBE_SERVICE} cluster IP`), kind);
  }
});

test("fillers: numbered names below the probe; the lab's own Services checked; batches within the body limit", () => {
  assert.equal(fillerName(7), 'scale-f00007');
  assert.ok(fillerName(29_999) < PROBE_SERVICE);
  assert.deepEqual(fillerSpecs(3, 4, 'p'), [
    { name: 'scale-f00003', ports: [{ port: 80 }], pods: ['p'] },
    { name: 'scale-f00004', ports: [{ port: 80 }], pods: ['p'] },
  ]);
  assert.deepEqual(fillerSpecs(1, 0, 'p'), []);
  assert.equal(probeSpec().name, PROBE_SERVICE);
  checkOwnServices('l', ['web', 'kubernetes', 'api']);
  for (const bad of ['zz-x', 'zz-scale-probe', 'scale-f00001'])
    assert.throws(
      () => checkOwnServices('l', ['web', bad]),
      (e: unknown) => isCnilabError(e, 'INVALID_INPUT') && e.message.includes(`its Service ${bad}`),
    );
  const specs = fillerSpecs(1, 30_000, 'node2-p1');
  const b = batches(specs);
  assert.deepEqual(b.flat(), specs);
  for (const x of b) assert.ok(JSON.stringify({ services: x }).length <= 64 * 1024);
  assert.ok(b.length < 40, `${b.length} batches for 30,000`);
  assert.deepEqual(batches([]), []);
});

test("the agents' sync deadline: the lab's 180 s, N² µs beyond 13,416 Services (iptables-nft is quadratic)", () => {
  assert.equal(syncTimeoutMs(1), 180_000);
  assert.equal(syncTimeoutMs(10_000), 180_000);
  assert.equal(syncTimeoutMs(30_000), 900_000);
});
