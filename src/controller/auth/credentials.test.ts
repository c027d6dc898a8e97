import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ADMIN, CredentialStore, hashToken } from './credentials';

function tmp(t: { after: (f: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'cnilab-credentials-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('a token issued verifies as its node; a new one replaces it; a revoked one verifies as no one', (t) => {
  const s = new CredentialStore(join(tmp(t), 'credentials.db'));
  t.after(() => s.close());
  const a = s.issue({ node: 'node1' });
  const b = s.issue({ node: 'node2' });
  assert.match(a, /^cnilab1_[A-Za-z0-9_-]{43}$/);
  assert.notEqual(a, b);
  assert.deepEqual(s.verify(a), { node: 'node1' });
  assert.deepEqual(s.verify(b), { node: 'node2' });
  assert.equal(s.verify(undefined), undefined);
  assert.equal(s.verify(''), undefined);
  assert.equal(s.verify(`${a}x`), undefined);
  const a2 = s.issue({ node: 'node1' });
  assert.equal(s.verify(a), undefined, 'the old token stops working once a new one is issued');
  assert.deepEqual(s.verify(a2), { node: 'node1' });
  assert.equal(s.revoke({ node: 'node1' }), true);
  assert.equal(s.revoke({ node: 'node1' }), false);
  assert.equal(s.verify(a2), undefined);
  assert.deepEqual(s.nodes(), ['node2']);
  assert.throws(() => s.issue({ node: '@admin' }), { code: 'INVALID_INPUT' });
});

test('the store keeps only hashes, on disk, and a reopened store still knows every token', (t) => {
  const dir = tmp(t);
  const file = join(dir, 'credentials.db');
  const s = new CredentialStore(file);
  const node = s.issue({ node: 'node1' });
  const admin = 'cnilab1_the-administrators-token-written-by-the-lab';
  s.accept(ADMIN, admin);
  s.close();
  // No file of the store (the database, its WAL) holds a token; they hold its hash.
  const bytes = readdirSync(dir)
    .map((f) => readFileSync(join(dir, f)).toString('latin1'))
    .join('');
  for (const token of [node, admin]) {
    assert.equal(bytes.includes(token), false, 'the token itself is not stored');
    assert.equal(bytes.includes(hashToken(token)), true, 'its hash is');
  }
  const again = new CredentialStore(file);
  t.after(() => again.close());
  assert.deepEqual(again.verify(node), { node: 'node1' });
  assert.deepEqual(again.verify(admin), ADMIN);
});
