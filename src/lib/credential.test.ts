import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { newToken, readCredential, writeCredential } from './credential';
import { httpJson } from './http-json';

function tmp(t: { after: (f: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'cnilab-credential-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('a credential file is written mode 0600, replaced whole, and read back; no file reads as none', (t) => {
  const file = join(tmp(t), 'credential');
  assert.equal(readCredential(file), undefined);
  const [a, b] = [newToken(), newToken()];
  assert.match(a, /^cnilab1_[A-Za-z0-9_-]{43}$/);
  assert.notEqual(a, b);
  writeCredential(file, a);
  assert.equal(statSync(file).mode & 0o777, 0o600);
  assert.equal(readCredential(file), a);
  writeCredential(file, b);
  assert.equal(statSync(file).mode & 0o777, 0o600);
  assert.equal(readCredential(file), b);
});

test('httpJson sends the token of its credential file, read at each request; none without the file', async (t) => {
  const dir = tmp(t);
  const file = join(dir, 'credential');
  const seen: (string | undefined)[] = [];
  const server = createServer((req, res) => {
    seen.push(req.headers.authorization);
    res.end('{}');
  });
  const sock = join(dir, 'api.sock');
  await new Promise<void>((r) => server.listen(sock, r));
  t.after(() => server.close());
  const get = () => httpJson('http://x/', { socketPath: sock, credential: file });
  await get();
  writeCredential(file, 'cnilab1_first');
  await get();
  writeCredential(file, 'cnilab1_second');
  await get();
  assert.deepEqual(seen, [undefined, 'Bearer cnilab1_first', 'Bearer cnilab1_second']);
});
