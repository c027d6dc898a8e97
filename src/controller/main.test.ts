// The controller process with --credentials (issue 31), started as a lab starts it but outside any
// namespace: on 127.0.0.1 (an ephemeral port) and a Unix socket the test talks to.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { newToken, writeCredential } from '../lib/credential';
import { sleep, startDaemon, stopPid } from '../lib/exec';
import { httpJson } from '../lib/http-json';
import { CONTROLLER_MAIN } from '../lib/paths';

const processTitle =
  'the controller process checks credentials; tokens are in no argv and no log, and survive its restart';
test(processTitle, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cnilab-controller-main-'));
  const sock = join(dir, 'controller.sock');
  const log = join(dir, 'controller.log');
  const admin = newToken();
  writeCredential(join(dir, 'admin.credential'), admin);
  const argv = [
    CONTROLLER_MAIN,
    ...['--listen', '127.0.0.1', '--port', '0', '--socket', sock],
    ...['--credentials', join(dir, 'credentials.db'), '--admin-credential', join(dir, 'admin.credential')],
    ...['--data', join(dir, 'leases.db'), '--network', '10.244.0.0/16', '--backend', 'host-gw'],
  ];
  const pids: number[] = [];
  const start = async (): Promise<number> => {
    const { pid } = startDaemon(process.execPath, argv, log);
    pids.push(pid);
    for (let i = 0; i < 500 && !existsSync(sock); i++) await sleep(10);
    return pid;
  };
  t.after(async () => {
    for (const pid of pids) await stopPid(pid);
    rmSync(dir, { recursive: true, force: true });
  });
  const as = <T = { error?: string }>(token: string | undefined, method: 'GET' | 'PUT', path: string, body?: unknown) =>
    httpJson<T>(`http://controller${path}`, { method, body, socketPath: sock, ...(token ? { token } : {}) });
  const lease = (ip: string) => ({ publicIp: ip, backendType: 'host-gw' });

  let pid = await start();
  const node1 = (await as<{ token: string }>(admin, 'PUT', '/credentials/node1')).body.token;
  assert.equal((await as(undefined, 'GET', '/v1/leases')).status, 401);
  assert.equal((await as(node1, 'PUT', '/v1/leases/node1', lease('198.18.0.2'))).status, 200);
  assert.equal((await as(node1, 'PUT', '/v1/leases/node2', lease('198.18.0.3'))).status, 403);
  const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');

  await stopPid(pid);
  pid = await start();
  assert.equal((await as(node1, 'PUT', '/v1/leases/node1', lease('198.18.0.2'))).status, 200, 'known after a restart');
  assert.equal((await as(admin, 'GET', '/credentials')).status, 200);
  await stopPid(pid);

  const text = readFileSync(log, 'utf8');
  assert.match(text, /cnilab-controller: leases for 10\.244\.0\.0\/16 \(host-gw\) and credentials on 127\.0\.0\.1:0/);
  for (const token of [admin, node1]) {
    assert.equal(cmdline.includes(token), false, 'not in argv');
    assert.equal(text.includes(token), false, 'not in the log');
  }
});
