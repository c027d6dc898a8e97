// The API server behind the controller with credentials: who may (pods: the owning node; Services:
// the administrator writes, nodes read), what a bad body gets (400 naming the field), the long poll.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ADMIN_TOKEN, testController } from '../controller/auth/test-controller';
import type { ProxyAnswer } from './proxy-view';
import { mountApi } from './service';
import { ApiStore } from './store';

async function controller(t: { after: (f: () => unknown) => void }) {
  const dir = mkdtempSync(join(tmpdir(), 'cnilab-api-'));
  const store = new ApiStore(join(dir, 'api.db'), { serviceCidr: '10.96.0.0/16', clusterCidr: '10.244.0.0/16' });
  const c = await testController(dir, mountApi(store));
  t.after(async () => {
    await c.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  return { store, ...c };
}

test('pods: a node registers, labels and removes only its own; Services: nodes read, the administrator writes', async (t) => {
  const c = await controller(t);
  const [one, two] = [await c.issue('node1'), await c.issue('node2')];
  assert.equal((await c.as(one, 'PUT', '/api/pods/a', { node: 'node1', ip: '10.244.1.2' })).status, 200);
  assert.equal((await c.as(two, 'PUT', '/api/pods/b', { node: 'node2', ip: '10.244.2.2' })).status, 200);
  const before = c.store.pods();
  const deny = await c.as(one, 'PUT', '/api/pods/b', { node: 'node1', ip: '10.244.2.2' });
  assert.deepEqual(deny, {
    status: 403,
    body: {
      error:
        "node node1 may not PUT /api/pods/b: a node registers, labels and removes only its own pods (it is node node2's)",
    },
  });
  assert.equal((await c.as(one, 'PUT', '/api/pods/c', { node: 'node2', ip: '10.244.2.9' })).status, 403);
  assert.equal((await c.as(one, 'PUT', '/api/pods/b/labels', { labels: { x: 'y' } })).status, 403);
  assert.equal((await c.as(one, 'DELETE', '/api/pods/b')).status, 403);
  assert.equal((await c.as(one, 'PUT', '/api/pods/c', { node: 'node1', ip: '10.244.2.2' })).status, 409);
  assert.equal(
    (await c.as(one, 'POST', '/api/services', { name: 's', ports: [{ port: 80 }], pods: ['a'] })).status,
    403,
  );
  assert.deepEqual(c.store.pods(), before, 'a refused write changes nothing');
  assert.equal((await c.as(one, 'GET', '/api/services')).status, 200);
  assert.equal((await c.as(one, 'GET', '/api/proxy')).status, 200);
  assert.equal((await c.as(undefined, 'GET', '/api/pods')).status, 401);
  const made = await c.as<{ services: { clusterIp: string }[] }>(ADMIN_TOKEN, 'POST', '/api/services', {
    services: [
      { name: 's', ports: [{ port: 80 }], pods: ['a'] },
      { name: 't', ports: [{ port: 53, protocol: 'udp' }], selector: { 'cnilab.io/node': 'node2' } },
    ],
  });
  assert.equal(made.status, 201);
  assert.deepEqual(
    made.body.services.map((s) => s.clusterIp),
    ['10.96.0.2', '10.96.0.3'],
  );
  assert.equal((await c.as(two, 'DELETE', '/api/services/s')).status, 403);
  assert.equal((await c.as(ADMIN_TOKEN, 'DELETE', '/api/services/s')).status, 200);
  assert.equal((await c.as(ADMIN_TOKEN, 'DELETE', '/api/services/s')).status, 404);
  // The batch DELETE: the administrator's, all or none, one revision.
  assert.equal((await c.as(two, 'DELETE', '/api/services', { names: ['t'] })).status, 403);
  const missing = await c.as(ADMIN_TOKEN, 'DELETE', '/api/services', { names: ['t', 's'] });
  assert.deepEqual(missing, { status: 404, body: { error: 'names.1: Service s: no such Service' } });
  assert.deepEqual(
    c.store.services().services.map((s) => s.name),
    ['t'],
    'nothing removed',
  );
  assert.equal((await c.as(ADMIN_TOKEN, 'DELETE', '/api/services', { names: [] })).status, 400);
  const r = c.store.index;
  assert.deepEqual(await c.as(ADMIN_TOKEN, 'DELETE', '/api/services', { names: ['t'] }), {
    status: 200,
    body: { revision: r + 1, names: ['t'] },
  });
});

test('bad input: 400 with one line naming the field; nothing created', async (t) => {
  const c = await controller(t);
  const bad: [string, string, unknown, RegExp][] = [
    ['PUT', '/api/pods/a', { node: 'node1', ip: 'x' }, /^ip: /],
    ['PUT', '/api/pods/A_', { node: 'node1', ip: '10.244.0.5' }, /^name: /],
    ['PUT', '/api/pods/a', { node: 'node1', ip: '10.244.0.5', labels: { 'a b': '1' } }, /^labels\.a b: /],
    ['POST', '/api/services', { name: 's', ports: [{ port: 0 }], pods: [] }, /^ports\.0\.port: /],
    ['POST', '/api/services', { name: 's', ports: [{ port: 80 }] }, /^selector: give exactly one/],
    ['POST', '/api/services', { name: 's', ports: [{ port: 80 }], pods: [], affinitySeconds: 0 }, /^affinitySeconds: /],
    [
      'POST',
      '/api/services',
      { services: [{ name: 's', ports: [{ port: 1 }], pods: [] }, { name: 'S' }] },
      /^services\.1\.name: /,
    ],
    ['POST', '/api/services', { name: 's', ports: [{ port: 1 }], pods: [], clusterIp: '10.97.0.1' }, /^clusterIp: /],
    ['GET', '/api/proxy?since=-1', undefined, /^since: /],
  ];
  for (const [method, path, body, error] of bad) {
    const r = await c.as(ADMIN_TOKEN, method as 'PUT', path, body);
    assert.equal(r.status, 400, `${method} ${path}`);
    assert.match(r.body.error ?? '', error);
    assert.ok(!(r.body.error ?? '').includes('\n'));
  }
  assert.deepEqual([c.store.pods().pods, c.store.services().services], [[], []]);
});

test('the proxy’s long poll: answers at the next change with only what changed', async (t) => {
  const c = await controller(t);
  await c.as(ADMIN_TOKEN, 'POST', '/api/services', {
    name: 's',
    ports: [{ name: 'h', port: 80, targetPort: 8080 }],
    selector: { app: 'x' },
  });
  const full = (await c.as<ProxyAnswer>(ADMIN_TOKEN, 'GET', '/api/proxy')).body;
  assert.equal(full.full, true);
  assert.equal(full.serviceCidr, '10.96.0.0/16');
  const waiting = c.as<ProxyAnswer>(ADMIN_TOKEN, 'GET', `/api/proxy?since=${full.revision}&wait=10`);
  await c.as(ADMIN_TOKEN, 'PUT', '/api/pods/p', { node: 'node1', ip: '10.244.1.5', labels: { app: 'x' } });
  const next = (await waiting).body;
  assert.deepEqual([next.full, next.revision], [false, full.revision + 1]);
  assert.deepEqual(next.services[0]!.endpoints, [{ ip: '10.244.1.5', port: 8080, node: 'node1', pod: 'p' }]);
});
