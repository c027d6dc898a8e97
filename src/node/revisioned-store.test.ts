import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RevisionedStore } from './revisioned-store';

/** The smallest store: named values; setting one peers see bumps the index. */
class Values extends RevisionedStore {
  constructor(file: string, config: { readonly size: number }) {
    super(file, 'CREATE TABLE IF NOT EXISTS vals (k TEXT PRIMARY KEY, v TEXT NOT NULL);');
    this.keepConfig(config, (old) =>
      old.size !== config.size ? `holds size ${old.size}, not ${config.size}` : undefined,
    );
  }

  set(k: string, v: string, fail = false): void {
    this.transaction(() => {
      this.db.prepare('INSERT OR REPLACE INTO vals VALUES (?, ?)').run(k, v);
      this.bump();
      if (fail) throw new Error('rolled back');
    });
  }

  get(k: string): string | undefined {
    return (this.db.prepare('SELECT v FROM vals WHERE k = ?').get(k) as { v: string } | undefined)?.v;
  }
}

function tmp(t: { after: (f: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'cnilab-store-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('the index starts at 0, moves with each change, and survives a reopen', (t) => {
  const file = join(tmp(t), 's.db');
  const a = new Values(file, { size: 1 });
  assert.equal(a.index, 0);
  a.set('x', '1');
  a.set('y', '2');
  assert.equal(a.index, 2);
  a.close();
  const b = new Values(file, { size: 1 });
  t.after(() => b.close());
  assert.equal(b.index, 2);
  assert.equal(b.get('y'), '2');
});

test('a change that throws leaves neither its rows nor its index behind', (t) => {
  const s = new Values(join(tmp(t), 's.db'), { size: 1 });
  t.after(() => s.close());
  assert.throws(() => s.set('x', '1', true), /rolled back/);
  assert.equal(s.index, 0);
  assert.equal(s.get('x'), undefined);
});

test('a reopened store refuses another configuration, naming why', (t) => {
  const file = join(tmp(t), 's.db');
  new Values(file, { size: 1 }).close();
  assert.throws(() => new Values(file, { size: 2 }), { code: 'INVALID_INPUT', message: 'holds size 1, not 2' });
  const again = new Values(file, { size: 1 });
  again.close();
});

test('waitForChange: at once when the index passed; else at the next change, after it committed', async (t) => {
  const s = new Values(join(tmp(t), 's.db'), { size: 1 });
  t.after(() => s.close());
  s.set('x', '1');
  await s.waitForChange(0, 60_000); // index 1 > 0: no wait
  const started = Date.now();
  const waiting = s.waitForChange(1, 60_000).then(() => s.index);
  setTimeout(() => s.set('x', '2'), 20);
  assert.equal(await waiting, 2);
  assert.ok(Date.now() - started < 5_000);
});

test('waitForChange: times out with the index unchanged; close wakes the waiters', async (t) => {
  const s = new Values(join(tmp(t), 's.db'), { size: 1 });
  const started = Date.now();
  await s.waitForChange(0, 30);
  assert.ok(Date.now() - started >= 25);
  assert.equal(s.index, 0);
  const waiting = s.waitForChange(0, 60_000);
  s.close();
  await waiting;
  t.after(() => undefined);
});
