import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LeaseStore, wireCompatible } from './lease-store';
import { type NetworkConfig } from './model';
import { createControlServer } from '../../controller/server';
import { mountLeases } from './service';

const CONFIG: NetworkConfig = { network: '10.244.0.0/16', subnetLength: 24, backend: { type: 'vxlan' } };
const MAC1 = 'aa:bb:cc:dd:ee:01';

function tmp(t: { after: (f: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'cnilab-leases-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function open(
  t: { after: (f: () => void) => void },
  file: string,
  config = CONFIG,
  ttl = 3600,
  now?: () => number,
): LeaseStore {
  const s = new LeaseStore(file, config, ttl, now);
  t.after(() => {
    try {
      s.close();
    } catch {
      /* closed by the test */
    }
  });
  return s;
}

const vx = (node: string, publicIp: string, vtepMac = MAC1) => ({
  node,
  publicIp,
  backendType: 'vxlan',
  backendData: { vtepMac },
});

test('leases get distinct subnets (never the first), renewals keep theirs, and a reopened store (SQLite) has them all', (t) => {
  const file = join(tmp(t), 'leases.db');
  const store = open(t, file);
  assert.equal(store.acquire(vx('node1', '198.18.0.2')).subnet, '10.244.1.0/24');
  assert.equal(store.acquire(vx('node2', '198.18.0.3', 'aa:bb:cc:dd:ee:02')).subnet, '10.244.2.0/24');
  assert.equal(store.acquire(vx('node1', '198.18.0.2', 'aa:bb:cc:dd:ee:03')).subnet, '10.244.1.0/24');
  const before = store.snapshot();
  store.close();
  const reopened = open(t, file);
  assert.deepEqual(reopened.snapshot(), before);
  assert.equal(reopened.snapshot().leases.find((l) => l.node === 'node1')?.backendData.vtepMac, 'aa:bb:cc:dd:ee:03');
  assert.equal(reopened.index, 3);
});

test('a renewal that changes nothing peers see does not bump the index', (t) => {
  const store = open(t, join(tmp(t), 'l.db'));
  store.acquire(vx('node1', '198.18.0.2'));
  const i = store.index;
  store.acquire(vx('node1', '198.18.0.2'));
  assert.equal(store.index, i);
});

test('leases expire after their TTL unless renewed; expiry wakes watchers', async (t) => {
  let clock = 1_000_000;
  const store = open(t, join(tmp(t), 'l.db'), CONFIG, 10, () => clock);
  store.acquire(vx('node1', '198.18.0.2'));
  store.acquire(vx('node2', '198.18.0.3', 'aa:bb:cc:dd:ee:02'));
  clock += 6_000;
  store.acquire(vx('node1', '198.18.0.2')); // renewed: expires at +16 s
  const index = store.index;
  const woke = store.waitForChange(index, 5000);
  clock += 5_000; // node2 reached its expiry at +10 s
  assert.equal(store.expire(), 1);
  await woke;
  assert.deepEqual(
    store.snapshot().leases.map((l) => l.node),
    ['node1'],
  );
  clock += 6_000;
  assert.equal(store.expire(), 1);
  assert.deepEqual(store.snapshot().leases, []);
});

test('a released subnet is handed out again; a conflicting public IP or another backend is refused', (t) => {
  const store = open(t, join(tmp(t), 'l.db'));
  store.acquire(vx('node1', '198.18.0.2'));
  store.acquire(vx('node2', '198.18.0.3', 'aa:bb:cc:dd:ee:02'));
  assert.throws(
    () => store.acquire(vx('node3', '198.18.0.3')),
    /publicIp: 198\.18\.0\.3 is already leased to node node2/,
  );
  assert.throws(
    () => store.acquire({ node: 'node3', publicIp: '198.18.0.4', backendType: 'udp' }),
    /backendType: "udp" does not match the network's backend "vxlan"/,
  );
  assert.throws(
    () => store.acquire({ node: 'node3', publicIp: '198.18.0.4', backendType: 'vxlan' }),
    /backendData\.vtepMac: is required for backend vxlan/,
  );
  assert.throws(
    () => store.acquire(vx('node3', '198.18.0.4', 'not-a-mac')),
    /backendData\.vtepMac: "not-a-mac" is not a MAC address/,
  );
  // Found in review: a node's own lease naming another's VTEP MAC took that node's traffic.
  assert.throws(
    () => store.acquire(vx('node3', '198.18.0.4', 'aa:bb:cc:dd:ee:02')),
    /backendData\.vtepMac: aa:bb:cc:dd:ee:02 is node node2's VTEP/,
  );
  assert.equal(store.release('node1'), true);
  assert.equal(store.release('node1'), false);
  assert.equal(store.acquire(vx('node3', '198.18.0.4', 'aa:bb:cc:dd:ee:04')).subnet, '10.244.1.0/24');
});

test("udp and udp-offload put the same packets on the wire: either may join the other's network, nothing else may", (t) => {
  const store = open(t, join(tmp(t), 'l.db'), { ...CONFIG, backend: { type: 'udp-offload' } });
  assert.equal(
    store.acquire({ node: 'node1', publicIp: '198.18.0.2', backendType: 'udp-offload' }).backendType,
    'udp-offload',
  );
  assert.equal(store.acquire({ node: 'node2', publicIp: '198.18.0.3', backendType: 'udp' }).backendType, 'udp');
  assert.throws(
    () => store.acquire(vx('node3', '198.18.0.4')),
    /backendType: "vxlan" does not match the network's backend "udp-offload"/,
  );
  assert.equal(wireCompatible('udp', 'udp-offload'), true);
  assert.equal(wireCompatible('vxlan', 'udp'), false);
});

test('a full network is refused with the reason', (t) => {
  const store = open(t, join(tmp(t), 'l.db'), {
    network: '10.9.0.0/23',
    subnetLength: 24,
    backend: { type: 'host-gw' },
  });
  store.acquire({ node: 'a', publicIp: '198.18.0.2', backendType: 'host-gw' });
  assert.throws(
    () => store.acquire({ node: 'b', publicIp: '198.18.0.3', backendType: 'host-gw' }),
    /network 10\.9\.0\.0\/23 has no free \/24 subnet left/,
  );
});

test('a store file of another network is refused', (t) => {
  const file = join(tmp(t), 'l.db');
  const s = open(t, file);
  s.acquire(vx('n1', '198.18.0.2'));
  s.close();
  assert.throws(
    () => new LeaseStore(file, { ...CONFIG, network: '10.99.0.0/16' }),
    /holds leases of network 10\.244\.0\.0\/16\/24 \(vxlan\), not 10\.99\.0\.0\/16\/24 \(vxlan\)/,
  );
});

function call(
  socketPath: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: any }> {
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

test('HTTP API: validation names the field, conflicts are 409, watch returns on change', async (t) => {
  const dir = tmp(t);
  const server = createControlServer([mountLeases(open(t, join(dir, 'l.db')))]);
  const sock = join(dir, 'api.sock'); // a Unix socket: no IP traffic in the test's namespace
  await new Promise<void>((r) => server.listen(sock, r));
  t.after(() => server.close());
  const lease = { publicIp: '198.18.0.2', backendType: 'vxlan', backendData: { vtepMac: MAC1 } };

  assert.deepEqual((await call(sock, 'GET', '/v1/config')).body, CONFIG);
  assert.deepEqual(await call(sock, 'PUT', '/v1/leases/node1', { ...lease, publicIp: 'nope' }), {
    status: 400,
    body: { error: 'publicIp: must be an IPv4 address' },
  });
  assert.deepEqual(await call(sock, 'PUT', '/v1/leases/node1', { ...lease, backendData: { vtepMac: 'zz' } }), {
    status: 400,
    body: { error: 'backendData.vtepMac: "zz" is not a MAC address like 0a:1b:2c:3d:4e:5f' },
  });
  assert.equal((await call(sock, 'PUT', '/v1/leases/node1', '{"publicIp":')).status, 400);
  assert.match((await call(sock, 'PUT', '/v1/leases/node1', { ...lease, extra: 1 })).body.error, /Unrecognized key/i);
  assert.match(
    (await call(sock, 'PUT', '/v1/leases/Bad..Name', lease)).body.error,
    /node: "Bad\.\.Name" is not a node name/,
  );
  assert.match((await call(sock, 'GET', '/v1/leases?index=-1')).body.error, /index: must be a non-negative integer/);

  const watch = call(sock, 'GET', '/v1/leases?index=0&wait=10');
  const granted = await call(sock, 'PUT', '/v1/leases/node1', lease);
  assert.equal(granted.status, 200);
  const seen = await watch;
  assert.equal(seen.body.index, 1);
  assert.deepEqual(
    seen.body.leases.map((l: { node: string }) => l.node),
    ['node1'],
  );
  assert.equal((await call(sock, 'PUT', '/v1/leases/node2', lease)).status, 409);
  assert.equal((await call(sock, 'DELETE', '/v1/leases/node9')).status, 404);
});
