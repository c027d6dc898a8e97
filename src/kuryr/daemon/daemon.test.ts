import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MechanismDriver } from '../drivers/driver';
import { KuryrDaemon } from './daemon';

/** A driver that touches nothing: these tests never reach the kernel. */
const driver: MechanismDriver = {
  name: 'linuxbridge',
  datapath: 'none',
  setup: async () => undefined,
  wire: async () => [],
  prepareVeth: async () => undefined,
  plug: async () => undefined,
  unplug: async () => undefined,
};

function daemonAt(t: { after: (fn: () => void) => void }, controller: string): KuryrDaemon {
  const runDir = mkdtempSync(join(tmpdir(), 'cnilab-kuryr-daemon-'));
  t.after(() => rmSync(runDir, { recursive: true, force: true }));
  return new KuryrDaemon({ controller, node: 'node1', underlayIp: '198.18.0.2', runDir, netnsPrefix: 'x-', driver });
}

test('kuryr daemon: a port controller that is down or answers 5xx is error 11 (try again later), naming it', async (t) => {
  const gone = createServer();
  await new Promise<void>((r) => gone.listen(0, '127.0.0.1', r));
  const down = `http://127.0.0.1:${(gone.address() as AddressInfo).port}`;
  await new Promise<void>((r) => gone.close(() => r()));
  const failing = createServer((_req, res) => {
    res.statusCode = 503;
    res.end('{"error":"starting"}');
  });
  await new Promise<void>((r) => failing.listen(0, '127.0.0.1', r));
  t.after(() => failing.close());
  const busy = `http://127.0.0.1:${(failing.address() as AddressInfo).port}`;
  for (const url of [down, busy]) {
    await assert.rejects(
      () => daemonAt(t, url).del({ containerId: 'lab-p1', ifName: 'eth0' }),
      (e: { code?: number; message?: string }) => {
        assert.equal(e.code, 11, e.message);
        assert.ok(e.message?.includes(`port controller at ${url}`), e.message);
        return true;
      },
    );
  }
});

test('kuryr daemon: a 4xx is an answer, not 11: DEL of a pod the controller has no port for succeeds', async (t) => {
  const refusing = createServer((_req, res) => {
    res.statusCode = 404;
    res.end('{"error":"no such thing"}');
  });
  await new Promise<void>((r) => refusing.listen(0, '127.0.0.1', r));
  t.after(() => refusing.close());
  const url = `http://127.0.0.1:${(refusing.address() as AddressInfo).port}`;
  await daemonAt(t, url).del({ containerId: 'lab-p1', ifName: 'eth0' });
});
