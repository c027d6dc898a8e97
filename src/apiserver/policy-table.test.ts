import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NetworkPolicy } from '../policy/model';
import { ApiStore } from './store';

const CONFIG = { serviceCidr: '10.96.0.0/24', clusterCidr: '10.244.0.0/16' };
const pol = (name: string, o: Partial<NetworkPolicy> = {}): NetworkPolicy => ({
  name,
  namespace: 'default',
  podSelector: { matchLabels: { app: name } },
  policyTypes: ['Ingress'],
  ingress: [],
  egress: [],
  ...o,
});

test("policies: kubectl apply's outcomes at one revision each, delete all or none, kept across a reopen", (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cnilab-policy-table-'));
  const file = join(dir, 'api.db');
  let store = new ApiStore(file, CONFIG);
  t.after(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const r0 = store.index;
  const a = store.policies.apply([pol('a'), pol('b')]);
  assert.equal(a.revision, r0 + 1, 'one revision for the batch');
  assert.deepEqual(
    a.applied.map((x) => x.outcome),
    ['created', 'created'],
  );
  const same = store.policies.apply([pol('a')]);
  assert.deepEqual(
    same,
    { revision: r0 + 1, applied: [{ key: 'default/a', outcome: 'unchanged' }] },
    'no change, no revision',
  );
  const changed = store.policies.apply([pol('a', { policyTypes: ['Egress', 'Ingress'] })]);
  assert.equal(changed.applied[0]!.outcome, 'configured');
  assert.equal(changed.revision, r0 + 2);
  assert.throws(() => store.policies.delete(['default/a', 'default/zz']), {
    code: 'NOT_FOUND',
    message: /keys\.1: NetworkPolicy default\/zz/,
  });
  assert.deepEqual(
    store.policies.list().policies.map((p) => p.name),
    ['a', 'b'],
    'nothing deleted of a refused batch',
  );
  store.close();
  store = new ApiStore(file, CONFIG);
  assert.deepEqual(
    store.policies.list().policies.map((p) => p.policyTypes),
    [['Egress', 'Ingress'], ['Ingress']],
  );
  const d = store.policies.delete(['default/b']);
  assert.deepEqual(d.deleted, ['default/b']);
  assert.equal(d.revision, r0 + 3);
});

test("a node's share: only the policies selecting its pods, resolved against every pod", (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cnilab-policy-share-'));
  const store = new ApiStore(join(dir, 'api.db'), CONFIG);
  t.after(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  store.putPods([
    { name: 'n1-a', node: 'node1', ip: '10.244.1.2', labels: { app: 'a' } },
    { name: 'n2-b', node: 'node2', ip: '10.244.2.2', labels: { app: 'b' } },
  ]);
  store.policies.apply([
    pol('a', {
      ingress: [
        {
          peers: [{ podSelector: { matchLabels: { app: 'b' } } }],
          ports: [{ protocol: 'tcp', port: 80, endPort: 81 }],
        },
      ],
    }),
    pol('b', {
      policyTypes: ['Egress'],
      egress: [{ peers: [{ ipBlock: { cidr: '10.0.0.0/8', except: ['10.244.1.0/24'] } }] }],
    }),
  ]);
  const one = store.policies.input('node1', store.pods().pods);
  assert.equal(one.revision, store.index);
  assert.deepEqual(one.policies, [
    {
      key: 'default/a',
      ingress: [{ peers: { pods: ['n2-b'], blocks: [] }, ports: [{ protocol: 'tcp', from: 80, to: 81 }] }],
    },
  ]);
  assert.deepEqual(one.endpoints, [{ pod: 'n1-a', ip: '10.244.1.2', ingress: ['default/a'], egress: [] }]);
  assert.deepEqual(
    one.pods.map((p) => p.name),
    ['n1-a', 'n2-b'],
    'every pod, for peers',
  );
  const two = store.policies.input('node2', store.pods().pods);
  assert.deepEqual(two.policies, [
    {
      key: 'default/b',
      egress: [{ peers: { pods: [], blocks: [{ cidr: '10.0.0.0/8', except: ['10.244.1.0/24'] }] }, ports: 'any' }],
    },
  ]);
  assert.deepEqual(two.endpoints, [{ pod: 'n2-b', ip: '10.244.2.2', ingress: [], egress: ['default/b'] }]);
  store.putPod('n1-a', { node: 'node1', ip: '10.244.1.2', labels: { app: 'c' } });
  assert.deepEqual(store.policies.input('node1', store.pods().pods).policies, [], 'relabelled out of the policy');
});
