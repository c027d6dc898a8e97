import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';

const PROBE = join(__dirname, 'realize-probe.js');
const probe = async (args: string[]): Promise<string[]> =>
  (await promisify(execFile)(process.execPath, [PROBE, ...args])).stdout.trim().split('\n');

test('realize probe: "started", then the time of the first connection established; its tries when none is', async () => {
  const server = createServer((s) => s.end());
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  try {
    const before = performance.timeOrigin + performance.now();
    const [started, line] = await probe(['--host', '127.0.0.1', '--port', String(port), '--deadline-sec', '5']);
    assert.equal(started, 'started');
    const r = JSON.parse(line!) as { firstAt: number; attempts: number };
    assert.ok(r.firstAt > before && r.firstAt < before + 5000, JSON.stringify(r));
    assert.ok(r.attempts >= 1);
  } finally {
    server.close();
  }
  // Nothing listens on a port just closed: every try refused until the deadline.
  const [, none] = await probe(['--host', '127.0.0.1', '--port', String(port), '--deadline-sec', '0.3']);
  const n = JSON.parse(none!) as { firstAt?: number; attempts: number };
  assert.equal(n.firstAt, undefined);
  assert.ok(n.attempts > 10, JSON.stringify(n));
  await assert.rejects(probe(['--port', '1']), /--host IP --port P/);
});
