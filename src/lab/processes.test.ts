import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { poll, restartingBy, restartNote } from './processes';
import type { ProcessState } from './state';

/** A PID that lived and is gone: a child that exited. */
const deadPid = (): number => spawnSync(process.execPath, ['-e', '0']).pid!;

/** `ready` answers on its third call. */
const third = (): (() => true | undefined) => {
  let n = 0;
  return () => (++n >= 3 ? true : undefined);
};

test('poll: a dead process fails it early; one being restarted (by a live restarter), or restarted, does not', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cnilab-poll-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const proc = (): ProcessState => ({ pid: deadPid(), role: 'controller', node: 'control', log: join(dir, 'c.log') });
  const died = proc();
  await assert.rejects(poll('x', third(), [died]), /controller on control exited during start-up/);
  const restarting = proc();
  writeFileSync(restartNote(restarting), restartingBy(process.pid));
  assert.equal(await poll('x', third(), [restarting]), true);
  // Its restarter died before it was done (a Ctrl-C, a kill): the note says nothing.
  const abandoned = proc();
  writeFileSync(restartNote(abandoned), restartingBy(deadPid()));
  await assert.rejects(poll('x', third(), [abandoned]), /exited during start-up/);
  const restarted = proc();
  writeFileSync(restartNote(restarted), String(process.pid));
  assert.equal(await poll('x', third(), [restarted]), true);
  const restartedThenDied = proc();
  writeFileSync(restartNote(restartedThenDied), String(deadPid()));
  await assert.rejects(poll('x', third(), [restartedThenDied]), /exited during start-up/);
});
