import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeCredential } from '../../../lib/credential';
import type { PluginEnv } from '../../skel';
import { calicoIpamPlugin, parseCalicoIpamConfig } from './calico-ipam';

const conf = (ipam: object): string => JSON.stringify({ cniVersion: '1.0.0', name: 'net', ipam });

test('calico-ipam: credential is an absolute path, optional', () => {
  const base = { type: 'calico-ipam', url: 'http://198.18.0.1:2379', node: 'node1' };
  assert.equal(parseCalicoIpamConfig(conf(base)).credential, undefined);
  const file = '/run/cnilab/l/nodes/node1/credential';
  assert.equal(parseCalicoIpamConfig(conf({ ...base, credential: file })).credential, file);
  assert.throws(() => parseCalicoIpamConfig(conf({ ...base, credential: 'cnilab1_token' })), /ipam.credential/);
});

const bearerTitle =
  'calico-ipam: the configuration holds the credential’s path; the token read from it goes as a bearer';
test(bearerTitle, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cnilab-calico-ipam-'));
  const file = join(dir, 'credential');
  writeCredential(file, 'cnilab1_node1-token');
  const seen: (string | undefined)[] = [];
  const server = createServer((req, res) => {
    seen.push(req.headers.authorization);
    res.end(JSON.stringify({ ip: '10.244.0.5', block: '10.244.0.0/26' }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const c = parseCalicoIpamConfig(conf({ type: 'calico-ipam', url, node: 'node1', credential: file }));
  const result = await calicoIpamPlugin.add(c, { containerId: 'c1', ifName: 'eth0' } as PluginEnv, undefined);
  assert.deepEqual(result.ips, [{ address: '10.244.0.5/32' }]);
  assert.deepEqual(seen, ['Bearer cnilab1_node1-token']);
});

/** A server answering every request with `status` and `body`; its URL. */
async function answering(t: { after: (fn: () => void) => void }, status: number, body: string): Promise<string> {
  const server = createServer((_req, res) => {
    res.statusCode = status;
    res.end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => server.close());
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const env = { containerId: 'c1', ifName: 'eth0' } as PluginEnv;
const ipamAt = (url: string) => parseCalicoIpamConfig(conf({ type: 'calico-ipam', url, node: 'node1' }));

test('calico-ipam: a controller that is down, resets or answers 5xx is error 11 (try again later), naming it', async (t) => {
  // A port nothing listens on: a server's, once closed.
  const gone = createServer();
  await new Promise<void>((r) => gone.listen(0, '127.0.0.1', r));
  const downUrl = `http://127.0.0.1:${(gone.address() as AddressInfo).port}`;
  await new Promise<void>((r) => gone.close(() => r()));
  const reset = createServer((req) => req.socket.destroy());
  await new Promise<void>((r) => reset.listen(0, '127.0.0.1', r));
  t.after(() => reset.close());
  const resetUrl = `http://127.0.0.1:${(reset.address() as AddressInfo).port}`;
  const cases = [
    ['refused', downUrl],
    ['reset', resetUrl],
    ['503', await answering(t, 503, '{"error":"starting"}')],
    ['500, not JSON', await answering(t, 500, 'oops')],
  ] as const;
  for (const [what, url] of cases) {
    for (const run of [
      () => calicoIpamPlugin.add(ipamAt(url), env, undefined),
      () => calicoIpamPlugin.del(ipamAt(url), env, undefined),
    ])
      await assert.rejects(run, (e: { code?: number; message?: string }) => {
        assert.equal(e.code, 11, `${what}: ${e.message}`);
        assert.match(e.message ?? '', new RegExp(`controller's IPAM API at ${url.replaceAll('.', '\\.')}`));
        return true;
      });
  }
});

test('calico-ipam: a refusal (4xx) is final, not 11', async (t) => {
  const full = await answering(t, 409, '{"error":"pool exhausted"}');
  await assert.rejects(() => calicoIpamPlugin.add(ipamAt(full), env, undefined), { code: 101 });
  const bad = await answering(t, 400, '{"error":"handle: bad"}');
  await assert.rejects(() => calicoIpamPlugin.add(ipamAt(bad), env, undefined), { code: 999 });
});

test('calico-ipam: families are asked for one by one, in their order; bad families are refused', async (t) => {
  const bodies: unknown[] = [];
  const server = createServer((req, res) => {
    let text = '';
    req.on('data', (c: Buffer) => (text += c.toString()));
    req.on('end', () => {
      const body = JSON.parse(text) as { family?: number };
      bodies.push(body);
      res.end(JSON.stringify(body.family === 6 ? { ip: 'fd00:10:244::5' } : { ip: '10.244.0.5' }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => server.close());
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const base = { type: 'calico-ipam', url, node: 'node1' };
  const c = parseCalicoIpamConfig(conf({ ...base, families: [6, 4] }));
  const result = await calicoIpamPlugin.add(c, env, undefined);
  assert.deepEqual(result.ips, [{ address: 'fd00:10:244::5/128' }, { address: '10.244.0.5/32' }]);
  assert.deepEqual(bodies, [
    { handle: 'net/c1/eth0', node: 'node1', family: 6 },
    { handle: 'net/c1/eth0', node: 'node1' },
  ]);
  assert.deepEqual(parseCalicoIpamConfig(conf(base)).families, [4]);
  for (const families of [[], [4, 4], [5], '4'])
    assert.throws(() => parseCalicoIpamConfig(conf({ ...base, families })), /ipam\.families/);
});
