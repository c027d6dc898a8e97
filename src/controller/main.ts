#!/usr/bin/env node
/**
 * The control-plane process of a lab: runs inside the control node's namespace and serves, on one
 * port, the controller services its flags ask for (src/arch/services.ts lists them: flannel's
 * lease store with --backend, Kuryr's port controller with --neutron-data, Calico's IPAM with
 * --ipam-data) — a lab's control plane passes only its own kind's.
 */
import { rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { controllerServices } from '../arch/services';
import { isCnilabError } from '../lib/errors';
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
    },
    controllerServices,
  ),
  required: ['listen'],
  async run(values, { signal, usage }) {
    const mounted: MountedService[] = [];
    const socket = values.socket as string | undefined;
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
      const [host, port] = [values.listen as string, Number(values.port)];
      await listen(createControlServer(mounted), `${host}:${port}`, port, host);
      console.log(`cnilab-controller: ${mounted.map((m) => m.what).join(' and ')} on ${host}:${port}`);
      // The Unix socket comes second: when it exists, the underlay address is served too.
      if (socket) {
        rmSync(socket, { force: true });
        await listen(createControlServer(mounted), socket, socket);
      }
      await stopped(signal);
    } finally {
      for (const m of mounted) m.close();
      if (socket) rmSync(socket, { force: true });
    }
  },
});
