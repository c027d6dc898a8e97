import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { httpJson } from '../lib/http-json';
import { ADMIN, CredentialStore } from './auth/credentials';
import { mountCredentials } from './auth/service';
import { createControlServer } from './server';
import { serviceOptions, type ControllerService, type MountedService } from './service';

/** A service answering GET PREFIX/echo/… with the path segments it was handed. */
function echo(name: string, prefix: string): MountedService {
  return {
    name,
    prefix,
    what: name,
    rules: [],
    handle: ({ req, res, parts, send }) =>
      Promise.resolve(req.method === 'GET' && parts[0] === 'echo' ? (send(res, 200, { name, parts }), true) : false),
    close: () => undefined,
  };
}

test('the controller hands a request to the service of its prefix only, with the segments after it', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cnilab-controller-'));
  const sock = join(dir, 'api.sock'); // a Unix socket: no IP traffic in the test's namespace
  const server = createControlServer([echo('leases', '/v1'), echo('ports', '/v2.0')]);
  await new Promise<void>((r) => server.listen(sock, r));
  t.after(() => {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const get = (path: string): Promise<{ status: number; body: unknown }> =>
    httpJson(`http://controller${path}`, { socketPath: sock });

  assert.deepEqual(await get('/v2.0/echo/a/b'), { status: 200, body: { name: 'ports', parts: ['echo', 'a', 'b'] } });
  assert.deepEqual(await get('/v1/echo'), { status: 200, body: { name: 'leases', parts: ['echo'] } });
  const miss = { error: 'this controller serves leases (/v1) and ports (/v2.0)' };
  assert.deepEqual(await get('/v3/echo'), { status: 404, body: { error: `no route GET /v3/echo: ${miss.error}` } });
  assert.deepEqual(await get('/v1/other'), { status: 404, body: { error: `no route GET /v1/other: ${miss.error}` } });
});

test('serviceOptions: every service’s flags beside the controller’s; a flag claimed twice is refused', () => {
  const service = (name: string, flag: string): ControllerService => ({
    name,
    options: { [flag]: { type: 'string' } },
    open: () => undefined,
  });
  const own = { listen: { type: 'string' } } as const;
  assert.deepEqual(Object.keys(serviceOptions(own, [service('a', 'a-data'), service('b', 'b-data')])), [
    'listen',
    'a-data',
    'b-data',
  ]);
  assert.throws(() => serviceOptions(own, [service('a', 'data'), service('b', 'data')]), {
    code: 'CONFLICT',
    message: 'controller service b: flag --data is taken',
  });
  assert.throws(() => serviceOptions(own, [service('a', 'listen')]), /flag --listen is taken/);
});

const credentialsTitle =
  'with credentials: 401 without a token or with one revoked, 403 naming the rule, the administrator issues';
test(credentialsTitle, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cnilab-controller-'));
  const sock = join(dir, 'api.sock');
  const store = new CredentialStore(join(dir, 'credentials.db'));
  const admin = 'cnilab1_admin-token-for-the-test';
  store.accept(ADMIN, admin);
  const own: MountedService = {
    ...echo('things', '/v9'),
    rules: [{ method: 'GET', path: '/echo/:node', may: (_q, p) => [p.node!], rule: 'a node echoes only itself' }],
  };
  const server = createControlServer([own, mountCredentials(store)], { auth: store });
  await new Promise<void>((r) => server.listen(sock, r));
  t.after(() => {
    server.close();
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const as = <T>(token: string | undefined, method: 'GET' | 'PUT' | 'DELETE', path: string) =>
    httpJson<T>(`http://controller${path}`, { method, socketPath: sock, ...(token ? { token } : {}) });

  const none = await as<{ error: string }>(undefined, 'GET', '/v9/echo/node1');
  assert.equal(none.status, 401);
  assert.match(none.body.error, /^no credential/);
  assert.equal((await as(undefined, 'GET', '/nowhere')).status, 401, 'before any route is looked up');
  assert.equal((await as('cnilab1_made-up', 'GET', '/v9/echo/node1')).status, 401);

  const issued = await as<{ node: string; token: string }>(admin, 'PUT', '/credentials/node1');
  assert.equal(issued.status, 200);
  const token = issued.body.token;
  assert.deepEqual(await as(token, 'GET', '/v9/echo/node1'), {
    status: 200,
    body: { name: 'things', parts: ['echo', 'node1'] },
  });
  assert.deepEqual(await as(token, 'GET', '/v9/echo/node2'), {
    status: 403,
    body: { error: "node node1 may not GET /v9/echo/node2: a node echoes only itself (it is node node2's)" },
  });
  assert.equal((await as(token, 'PUT', '/credentials/node2')).status, 403, 'a node issues no credential');
  assert.deepEqual((await as(admin, 'GET', '/credentials')).body, { nodes: ['node1'] });
  assert.equal((await as(admin, 'GET', '/v9/echo/node2')).status, 200, 'the administrator may every route');

  assert.deepEqual(await as(admin, 'DELETE', '/credentials/node1'), { status: 200, body: { node: 'node1' } });
  const revoked = await as<{ error: string }>(token, 'GET', '/v9/echo/node1');
  assert.deepEqual(revoked, {
    status: 401,
    body: { error: 'credential unknown or revoked: the controller does not know it' },
  });
});

/** The status line's code of `raw` written to the socket, as the server answers it. */
function rawStatus(sock: string, raw: string): Promise<number> {
  return new Promise((resolve, reject) => {
    let text = '';
    const c = connect(sock, () => c.end(raw));
    c.on('data', (d: Buffer) => (text += d.toString('latin1')));
    c.on('end', () => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0)));
    c.on('error', reject);
  });
}

// Found by npm run fuzz:api: `GET //` and `GET http://[` made new URL() throw, answered 500.
test('a request target that is no path gets 400, not 500; // is a path (404), //v1/echo the path /v1/echo', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cnilab-controller-'));
  const sock = join(dir, 'api.sock');
  const server = createControlServer([echo('leases', '/v1')]);
  await new Promise<void>((r) => server.listen(sock, r));
  t.after(() => {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const get = (target: string): Promise<number> =>
    rawStatus(sock, `GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
  for (const target of ['http://[', '*', 'v1/echo', 'file:///v1/echo']) assert.equal(await get(target), 400, target);
  for (const target of ['//', '//[::1']) assert.equal(await get(target), 404, target);
  assert.equal(await get('//v1/echo'), 200);
  assert.equal(await get('http://controller/v1/echo'), 200, 'the absolute form');
});
