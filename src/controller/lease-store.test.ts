import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LeaseStore } from './lease-store';
import { createLeaseServer } from './server';

const CONFIG = { network: '10.244.0.0/16', subnetLength: 24, backend: 'vxlan' };

function tmp(t: { after: (f: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'cnilab-leases-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('leases get distinct subnets (never the first), renewals keep theirs, and a restart loses nothing', (t) => {
  const file = join(tmp(t), 'leases.json');
  const store = new LeaseStore(file, CONFIG);
  const a = store.acquire({ node: 'node1', publicIp: '198.18.0.2', backendData: { vtepMac: 'aa:bb:cc:dd:ee:01' } });
  const b = store.acquire({ node: 'node2', publicIp: '198.18.0.3' });
  assert.equal(a.subnet, '10.244.1.0/24');
  assert.equal(b.subnet, '10.244.2.0/24');
  assert.equal(store.acquire({ node: 'node1', publicIp: '198.18.0.2', backendData: { vtepMac: 'aa:bb:cc:dd:ee:02' } }).subnet, '10.244.1.0/24');
  const reopened = new LeaseStore(file, CONFIG);
  assert.deepEqual(reopened.snapshot(), store.snapshot());
  assert.equal(reopened.snapshot().leases.find((l) => l.node === 'node1')?.backendData.vtepMac, 'aa:bb:cc:dd:ee:02');
  assert.equal(reopened.snapshot().index, 3);
});

test('a released subnet is handed out again; a conflicting public IP is refused', (t) => {
  const store = new LeaseStore(join(tmp(t), 'l.json'), CONFIG);
  store.acquire({ node: 'node1', publicIp: '198.18.0.2' });
  store.acquire({ node: 'node2', publicIp: '198.18.0.3' });
  assert.throws(() => store.acquire({ node: 'node3', publicIp: '198.18.0.3' }), /publicIp 198\.18\.0\.3 is already leased to node node2/);
  assert.equal(store.release('node1'), true);
  assert.equal(store.release('node1'), false);
  assert.equal(store.acquire({ node: 'node3', publicIp: '198.18.0.4' }).subnet, '10.244.1.0/24');
});

test('a store file of another network is refused', (t) => {
  const file = join(tmp(t), 'l.json');
  new LeaseStore(file, CONFIG).acquire({ node: 'n1', publicIp: '198.18.0.2' });
  assert.throws(() => new LeaseStore(file, { ...CONFIG, network: '10.99.0.0/16' }), /holds leases of network 10\.244\.0\.0\/16\/24, not 10\.99\.0\.0\/16\/24/);
});

function call(socketPath: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, method, path, headers: { 'content-type': 'application/json' } }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
    });
    req.on('error', reject);
    req.end(body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body));
  });
}

test('HTTP API: validation names the field, watch returns on change', async (t) => {
  const dir = tmp(t);
  const server = createLeaseServer(new LeaseStore(join(dir, 'l.json'), CONFIG));
  const sock = join(dir, 'api.sock'); // a Unix socket: no IP traffic in the test's namespace
  await new Promise<void>((r) => server.listen(sock, r));
  t.after(() => server.close());

  assert.deepEqual((await call(sock, 'GET', '/v1/config')).body, CONFIG);
  assert.deepEqual(await call(sock, 'PUT', '/v1/leases/node1', { publicIp: 'nope' }), { status: 400, body: { error: 'publicIp: must be an IPv4 address' } });
  assert.equal((await call(sock, 'PUT', '/v1/leases/node1', '{"publicIp":')).status, 400);
  assert.match((await call(sock, 'PUT', '/v1/leases/node1', { publicIp: '198.18.0.2', extra: 1 })).body.error, /Unrecognized key/i);
  assert.match((await call(sock, 'PUT', '/v1/leases/Bad..Name', { publicIp: '198.18.0.2' })).body.error, /node: "Bad\.\.Name" is not a node name/);

  const watch = call(sock, 'GET', '/v1/leases?index=0&wait=10');
  const granted = await call(sock, 'PUT', '/v1/leases/node1', { publicIp: '198.18.0.2', backendData: { vtepMac: 'aa:bb:cc:dd:ee:ff' } });
  assert.equal(granted.status, 200);
  const seen = await watch;
  assert.equal(seen.body.index, 1);
  assert.deepEqual(seen.body.leases.map((l: { node: string }) => l.node), ['node1']);
  assert.equal((await call(sock, 'PUT', '/v1/leases/node2', { publicIp: '198.18.0.2' })).status, 409);
  assert.equal((await call(sock, 'DELETE', '/v1/leases/node9')).status, 404);
});
