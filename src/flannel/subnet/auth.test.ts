// NodeRestriction on the lease API (issue 31): a node writes only its own lease; a refused write changes nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ADMIN_TOKEN, testController } from '../../controller/auth/test-controller';
import { LeaseStore } from './lease-store';
import type { NetworkConfig } from './model';
import { mountLeases } from './service';

const CONFIG: NetworkConfig = { network: '10.244.0.0/16', subnetLength: 24, backend: { type: 'vxlan' } };

/** The controller with credentials over the lease store in `dir`, on a Unix socket; closed by `stop`. */
async function controller(dir: string) {
  const leases = new LeaseStore(join(dir, 'leases.db'), CONFIG);
  return { leases, ...(await testController(dir, mountLeases(leases))) };
}

const lease = (ip: string, mac: string) => ({ publicIp: ip, backendType: 'vxlan', backendData: { vtepMac: mac } });

const ownLeaseTitle =
  'leases: a node writes only its own lease (403 naming the rule, nothing changed); reads every lease';
test(ownLeaseTitle, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cnilab-lease-auth-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const c = await controller(dir);
  t.after(() => c.stop());
  const [one, two] = [await c.issue('node1'), await c.issue('node2')];
  assert.equal((await c.as(one, 'PUT', '/v1/leases/node1', lease('198.18.0.2', 'aa:bb:cc:dd:ee:01'))).status, 200);
  assert.equal((await c.as(two, 'PUT', '/v1/leases/node2', lease('198.18.0.3', 'aa:bb:cc:dd:ee:02'))).status, 200);
  const before = c.leases.snapshot();

  const steal = await c.as(one, 'PUT', '/v1/leases/node2', lease('198.18.0.9', 'aa:bb:cc:dd:ee:09'));
  assert.deepEqual(steal, {
    status: 403,
    body: { error: "node node1 may not PUT /v1/leases/node2: a node writes only its own lease (it is node node2's)" },
  });
  assert.equal((await c.as(one, 'DELETE', '/v1/leases/node2')).status, 403);
  assert.equal((await c.as(one, 'PUT', '/v1/leases/node3', lease('198.18.0.4', 'aa:bb:cc:dd:ee:04'))).status, 403);
  assert.deepEqual(c.leases.snapshot(), before, 'a refused write changes nothing');

  assert.equal((await c.as(one, 'GET', '/v1/leases')).status, 200);
  assert.equal((await c.as(one, 'GET', '/v1/config')).status, 200);
  assert.equal(
    (await c.as(undefined, 'PUT', '/v1/leases/node1', lease('198.18.0.8', 'aa:bb:cc:dd:ee:08'))).status,
    401,
  );
  assert.equal((await c.as(ADMIN_TOKEN, 'DELETE', '/v1/leases/node2')).status, 200, 'the administrator may');
  assert.deepEqual(
    c.leases.snapshot().leases.map((l) => l.node),
    ['node1'],
  );
});

const revokedTitle =
  'leases: a revoked node gets 401 and changes nothing; credentials survive the controller’s restart';
test(revokedTitle, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cnilab-lease-auth-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  let c = await controller(dir);
  const [one, two] = [await c.issue('node1'), await c.issue('node2')];
  assert.equal((await c.as(one, 'PUT', '/v1/leases/node1', lease('198.18.0.2', 'aa:bb:cc:dd:ee:01'))).status, 200);
  await c.stop();

  c = await controller(dir); // a restart: the same files
  t.after(() => c.stop());
  assert.equal((await c.as(two, 'PUT', '/v1/leases/node2', lease('198.18.0.3', 'aa:bb:cc:dd:ee:02'))).status, 200);
  assert.equal((await c.as(ADMIN_TOKEN, 'DELETE', '/credentials/node1')).status, 200);
  const before = c.leases.snapshot();
  const gone = await c.as(one, 'DELETE', '/v1/leases/node1');
  assert.equal(gone.status, 401);
  assert.equal((await c.as(one, 'GET', '/v1/leases')).status, 401);
  assert.deepEqual(c.leases.snapshot(), before);
});
