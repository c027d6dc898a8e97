import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeCredential } from '../lib/credential';
import { call, follow, untilUp } from './client';

test('untilUp: retries until the attempt succeeds, telling each failure', async () => {
  let n = 0;
  const told: number[] = [];
  const v = await untilUp(() => (++n < 3 ? Promise.reject(new Error('refused')) : Promise.resolve('up')), {
    signal: new AbortController().signal,
    everyMs: 1,
    onRetry: (i) => told.push(i),
  });
  assert.equal(v, 'up');
  assert.deepEqual(told, [0, 1]);
});

test('untilUp: gives up after `tries` with the last failure', async () => {
  let n = 0;
  await assert.rejects(
    untilUp(() => Promise.reject(new Error(`no ${++n}`)), {
      signal: new AbortController().signal,
      tries: 4,
      everyMs: 1,
    }),
    /^Error: no 4$/,
  );
});

test('untilUp: an aborted signal stops the retries', async () => {
  const abort = new AbortController();
  let n = 0;
  await assert.rejects(
    untilUp(
      () => {
        if (++n === 2) abort.abort();
        return Promise.reject(new Error('refused'));
      },
      { signal: abort.signal, everyMs: 1 },
    ),
    /refused/,
  );
  assert.equal(n, 2);
});

const beforeCredentialTitle =
  'an agent that starts before its credential retries through 401 until the file is there, then follows';
test(beforeCredentialTitle, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cnilab-client-'));
  const file = join(dir, 'credential');
  // A controller that knows one token: 401 without it, a snapshot with it.
  const server = createServer((req, res) => {
    const ok = req.headers.authorization === 'Bearer cnilab1_node1';
    res.writeHead(ok ? 200 : 401, { 'content-type': 'application/json' });
    res.end(JSON.stringify(ok ? { index: 1 } : { error: 'no credential' }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/leases`;
  const abort = new AbortController();
  const failures: string[] = [];
  const first = untilUp(() => call<{ index: number }>(url, { signal: abort.signal, credential: file }), {
    signal: abort.signal,
    everyMs: 5,
    onRetry: (i, e) => {
      failures.push(String(e));
      if (i === 2) writeCredential(file, 'cnilab1_node1'); // the lab issues it while the agent retries
    },
  });
  assert.deepEqual(await first, { index: 1 });
  assert.equal(failures.length, 3);
  assert.match(failures[0]!, /401 no credential/);
  assert.ok(
    failures.every((f) => !f.includes('cnilab1_')),
    'no token in what is logged',
  );
  const applied: number[] = [];
  await follow<{ index: number }>({
    url,
    signal: abort.signal,
    credential: file,
    log: () => undefined,
    apply: (s) => (applied.push(s.index), abort.abort(), Promise.resolve()),
  });
  assert.deepEqual(applied, [1]);
});
