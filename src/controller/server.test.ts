import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { httpJson } from '../lib/http-json';
import { createControlServer } from './server';
import { serviceOptions, type ControllerService, type MountedService } from './service';

/** A service answering GET PREFIX/echo/… with the path segments it was handed. */
function echo(name: string, prefix: string): MountedService {
  return {
    name,
    prefix,
    what: name,
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
