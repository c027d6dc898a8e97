#!/usr/bin/env node
/**
 * The control-plane process of a lab: runs inside the control node's namespace and serves, on one
 * port, the controller services its flags ask for (src/arch/services.ts lists them: flannel's
 * lease store with --backend, Kuryr's port controller with --neutron-data, Calico's IPAM with
 * --ipam-data) — a lab's control plane passes only its own kind's.
 *
 * With --credentials FILE it checks credentials (src/controller/auth/): FILE is the SQLite file of
 * the tokens' hashes, --admin-credential the file the lab wrote the administrator's token to (the
 * token is read from there, never given in argv). Without --credentials every request may do
 * anything, as before issue 31.
 */
import { readFileSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { controllerServices } from '../arch/services';
import { CnilabError, isCnilabError } from '../lib/errors';
import { ADMIN, CredentialStore } from './auth/credentials';
import { mountCredentials } from './auth/service';
import { runDaemon, stopped } from '../node/daemon';
import { createControlServer } from './server';
import { serviceOptions, type MountedService } from './service';

/** Resolves once `server` listens; rejects with where it could not. */
function listen(server: Server, where: string, ...args: [number, string] | [string]): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', (e) => reject(new Error(`cannot listen on ${where}: ${e.message}`)));
    server.listen(...(args as [string]), () => resolve());
  });
}

runDaemon({
  name: 'cnilab-controller',
  options: serviceOptions(
    {
      listen: { type: 'string' },
      port: { type: 'string', default: '2379' },
      /** Also serve the API on this Unix socket: the lab's tools reach it there, from outside the namespace. */
      socket: { type: 'string' },
      /** Check credentials: the SQLite file of their hashes. Without it, every request may do anything. */
      credentials: { type: 'string' },
      /** With --credentials: the file (mode 0600) holding the administrator's token. */
      'admin-credential': { type: 'string' },
    },
    controllerServices,
  ),
  required: ['listen'],
  async run(values, { signal, usage }) {
    const mounted: MountedService[] = [];
    const socket = values.socket as string | undefined;
    let auth: CredentialStore | undefined;
    try {
      auth = openCredentials(
        values.credentials as string | undefined,
        values['admin-credential'] as string | undefined,
      );
    } catch (e) {
      if (isCnilabError(e, 'INVALID_INPUT')) usage(e.message);
      throw e;
    }
    try {
      for (const s of controllerServices) {
        try {
          const m = s.open(values);
          if (m) mounted.push(m);
        } catch (e) {
          if (isCnilabError(e, 'INVALID_INPUT')) usage(e.message);
          throw e;
        }
      }
      if (auth) mounted.push(mountCredentials(auth));
      const [host, port] = [values.listen as string, Number(values.port)];
      await listen(createControlServer(mounted, { auth }), `${host}:${port}`, port, host);
      const checks = auth ? '' : ' (credentials not checked)';
      console.log(`cnilab-controller: ${mounted.map((m) => m.what).join(' and ')} on ${host}:${port}${checks}`);
      // The Unix socket comes second: when it exists, the underlay address is served too.
      if (socket) {
        rmSync(socket, { force: true });
        await listen(createControlServer(mounted, { auth }), socket, socket);
      }
      await stopped(signal);
    } finally {
      for (const m of mounted) m.close();
      if (socket) rmSync(socket, { force: true });
    }
  },
});

/** The credential store of --credentials, knowing the administrator's token from --admin-credential; or undefined. */
function openCredentials(file: string | undefined, adminFile: string | undefined): CredentialStore | undefined {
  if (file === undefined) return undefined;
  if (adminFile === undefined) throw new CnilabError('INVALID_INPUT', '--credentials needs --admin-credential');
  let token: string;
  try {
    token = readFileSync(adminFile, 'utf8').trim();
  } catch (e) {
    throw new CnilabError('INVALID_INPUT', `--admin-credential: cannot read ${adminFile}: ${(e as Error).message}`);
  }
  if (!token) throw new CnilabError('INVALID_INPUT', `--admin-credential: ${adminFile} is empty`);
  const store = new CredentialStore(file);
  store.accept(ADMIN, token);
  return store;
}
