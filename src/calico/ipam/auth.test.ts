// NodeRestriction on the IPAM API (issue 31): a node writes only its own node, addresses and handles.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Method } from '../../controller/auth/rules';
import { ADMIN_TOKEN, testController } from '../../controller/auth/test-controller';
import { mountIpam } from './service';
import { IpamStore } from './store';

const ownAddressesTitle =
  'IPAM: a node takes, releases and collects only its own addresses, registers only itself (403, nothing changed)';
test(ownAddressesTitle, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cnilab-ipam-auth-'));
  const ipam = new IpamStore(join(dir, 'ipam.db'), { pool: '10.244.0.0/16', blockSize: 26, mode: 'vxlan' });
  const c = await testController(dir, mountIpam(ipam));
  t.after(async () => {
    await c.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  const { as, issue } = c;
  const [one, two] = [await issue('node1'), await issue('node2')];

  assert.equal((await as(one, 'PUT', '/v3/nodes/node1', { ip: '198.18.0.2' })).status, 200);
  assert.equal((await as(two, 'PUT', '/v3/nodes/node2', { ip: '198.18.0.3' })).status, 200);
  assert.equal((await as(one, 'POST', '/v3/ipam/assign', { handle: 'net/c1/eth0', node: 'node1' })).status, 200);
  assert.equal((await as(two, 'POST', '/v3/ipam/assign', { handle: 'net/c2/eth0', node: 'node2' })).status, 200);
  const before = { state: ipam.snapshot(), allocations: ipam.allocations() };

  const refused: [Method, string, unknown, string][] = [
    ['PUT', '/v3/nodes/node2', { ip: '198.18.0.9' }, 'a node registers and removes only itself'],
    ['DELETE', '/v3/nodes/node2', undefined, 'a node registers and removes only itself'],
    [
      'POST',
      '/v3/ipam/assign',
      { handle: 'net/c3/eth0', node: 'node2' },
      'a node takes addresses only from its own blocks',
    ],
    ['POST', '/v3/ipam/release', { handle: 'net/c2/eth0' }, 'a node releases only the addresses it holds'],
    ['POST', '/v3/ipam/gc', { node: 'node2', prefix: 'net/', keep: [] }, 'a node collects only its own handles'],
    ['GET', '/v3/ipam/allocations?node=node2', undefined, 'a node lists only its own allocations (?node=NODE)'],
    ['GET', '/v3/ipam/allocations', undefined, 'a node lists only its own allocations (?node=NODE)'],
  ];
  for (const [method, path, body, rule] of refused) {
    const r = await as(one, method, path, body);
    assert.equal(r.status, 403, `${method} ${path}`);
    assert.ok(r.body.error?.includes(rule), `${method} ${path}: ${r.body.error}`);
  }
  assert.deepEqual({ state: ipam.snapshot(), allocations: ipam.allocations() }, before, 'nothing changed');

  // What is its own, and what every node reads.
  assert.equal((await as(one, 'GET', '/v3/state')).status, 200);
  assert.equal((await as(one, 'GET', '/v3/ipam/allocations?node=node1')).status, 200);
  assert.deepEqual(await as(one, 'POST', '/v3/ipam/release', { handle: 'net/c9/eth0' }), {
    status: 200,
    body: { released: 0 },
  });
  // Another node taking the same handle name neither blocks the holder's release nor loses its own address.
  assert.equal((await as(two, 'POST', '/v3/ipam/assign', { handle: 'net/c1/eth0', node: 'node2' })).status, 200);
  assert.deepEqual(await as(one, 'POST', '/v3/ipam/release', { handle: 'net/c1/eth0' }), {
    status: 200,
    body: { released: 1 },
  });
  assert.deepEqual(
    ipam.allocations().map((a) => [a.handle, a.node]),
    [
      ['net/c2/eth0', 'node2'],
      ['net/c1/eth0', 'node2'],
    ],
  );
  // A malformed body is still the handler's 400, not a 403.
  assert.equal((await as(one, 'POST', '/v3/ipam/assign', { handle: 'x' })).status, 400);
  // The administrator removes a node that leaves; its credential revoked, the node gets 401.
  assert.equal((await as(ADMIN_TOKEN, 'DELETE', '/v3/nodes/node2')).status, 200);
  assert.equal((await as(ADMIN_TOKEN, 'DELETE', '/credentials/node2')).status, 200);
  assert.equal((await as(two, 'PUT', '/v3/nodes/node2', { ip: '198.18.0.3' })).status, 401);
  assert.deepEqual(
    ipam.snapshot().nodes.map((n) => n.name),
    ['node1'],
  );
});
