// The lab's side of the credentials (issue 31) against a real controller server on the lab's socket,
// in a run root of its own: no namespace, no process started.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = mkdtempSync(join(tmpdir(), 'cnilab-run-root-'));
process.env.CNILAB_RUN_ROOT = root; // before lab/names.ts is loaded: the imports below are dynamic

const labTitle = 'a lab that checks credentials: admin file 0600, nodes issued theirs at join (0600), revoked at leave';
test(labTitle, async (t) => {
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const { adminCredentialFile, checksCredentials, chooseControlAuth, controllerAuthArgs } =
    await import('./credentials');
  const { credentialFile, credentialStoreFile } = await import('./credentials');
  const { issueCredentials, revokeCredential } = await import('./node-credentials');
  const { controllerSocket, controlRequest } = await import('./processes');
  const { runDir } = await import('./names');
  const { CredentialStore, ADMIN } = await import('../controller/auth/credentials');
  const { mountCredentials } = await import('../controller/auth/service');
  const { createControlServer } = await import('../controller/server');
  const { readCredential } = await import('../lib/credential');

  // Switched off (the benchmark's switch at up): no flags, nothing issued, no file — after a restart too.
  chooseControlAuth('off', { CNILAB_BENCH_CONTROL_AUTH: 'off' });
  assert.deepEqual(controllerAuthArgs('off'), []);
  assert.deepEqual(controllerAuthArgs('off'), [], 'a restarted controller of a lab that began without stays without');
  assert.equal(checksCredentials('off'), false);
  await issueCredentials('off', ['node1'], []);
  assert.equal(existsSync(credentialFile('off', 'node1')), false);

  const lab = 'on';
  chooseControlAuth(lab, {});
  const args = controllerAuthArgs(lab);
  const admin = readCredential(adminCredentialFile(lab))!;
  assert.deepEqual(args, ['--credentials', credentialStoreFile(lab), '--admin-credential', adminCredentialFile(lab)]);
  assert.equal(statSync(adminCredentialFile(lab)).mode & 0o777, 0o600);
  assert.ok(!args.join(' ').includes(admin), 'the controller’s argv holds paths, never the token');
  assert.deepEqual(
    (chooseControlAuth(lab, { CNILAB_BENCH_CONTROL_AUTH: 'off' }), controllerAuthArgs(lab)),
    args,
    'a restarted controller keeps checking, whatever the env',
  );
  assert.equal(readCredential(adminCredentialFile(lab)), admin, 'and the same administrator');

  // The controller, as main.ts opens it, on the lab's socket.
  mkdirSync(runDir(lab), { recursive: true });
  const store = new CredentialStore(credentialStoreFile(lab));
  store.accept(ADMIN, admin);
  const server = createControlServer([mountCredentials(store)], { auth: store });
  await new Promise<void>((r) => server.listen(controllerSocket(lab), r));
  t.after(() => {
    server.close();
    store.close();
  });

  await issueCredentials(lab, ['node1', 'node2'], []);
  const tokens = ['node1', 'node2'].map((n) => {
    const file = credentialFile(lab, n);
    assert.equal(file, join(root, lab, 'nodes', n, 'credential'));
    assert.equal(statSync(file).mode & 0o777, 0o600);
    return readFileSync(file, 'utf8').trim();
  });
  assert.deepEqual(store.verify(tokens[0]), { node: 'node1' });
  assert.deepEqual(store.verify(tokens[1]), { node: 'node2' });
  assert.deepEqual((await controlRequest(lab, 'GET', '/credentials')).body, { nodes: ['node1', 'node2'] });

  await revokeCredential(lab, 'node1');
  assert.equal(existsSync(credentialFile(lab, 'node1')), false);
  assert.equal(store.verify(tokens[0]), undefined);
  assert.deepEqual(store.verify(tokens[1]), { node: 'node2' });
  await revokeCredential(lab, 'node1'); // gone already: fine
});
