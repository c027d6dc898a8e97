/**
 * For the services' NodeRestriction tests: the controller checking credentials, over `service`'s
 * store, on a Unix socket in `dir`; `as` sends a request with a token (or none), `issue` has the
 * administrator issue a node its token, `stop` closes it all.
 */
import { join } from 'node:path';
import { httpJson } from '../../lib/http-json';
import { createControlServer } from '../server';
import type { MountedService } from '../service';
import { ADMIN, CredentialStore } from './credentials';
import { mountCredentials } from './service';
import type { Method } from './rules';

export const ADMIN_TOKEN = 'cnilab1_admin-token-for-the-test';

export interface TestController {
  as<T = { error?: string }>(
    token: string | undefined,
    method: Method,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: T }>;
  issue(node: string): Promise<string>;
  stop(): Promise<void>;
}

export async function testController(dir: string, service: MountedService): Promise<TestController> {
  const credentials = new CredentialStore(join(dir, 'credentials.db'));
  credentials.accept(ADMIN, ADMIN_TOKEN);
  const sock = join(dir, `api-${Math.random().toString(36).slice(2)}.sock`);
  const server = createControlServer([service, mountCredentials(credentials)], { auth: credentials });
  await new Promise<void>((r) => server.listen(sock, r));
  const as = <T = { error?: string }>(token: string | undefined, method: Method, path: string, body?: unknown) =>
    httpJson<T>(`http://controller${path}`, { method, body, socketPath: sock, ...(token ? { token } : {}) });
  return {
    as,
    issue: async (node) => (await as<{ token: string }>(ADMIN_TOKEN, 'PUT', `/credentials/${node}`)).body.token,
    stop: () =>
      new Promise((r) => {
        server.close(() => r());
        server.closeAllConnections();
        service.close();
        credentials.close();
      }),
  };
}
