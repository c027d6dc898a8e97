/**
 * The controller's own service, mounted when it checks credentials: the administrator issues a
 * node its token at join (the answer is the only place the token travels; the lab writes it to the
 * node's folder, mode 0600) and revokes it when the node leaves.
 *   GET    /credentials        the nodes holding a token
 *   PUT    /credentials/NODE   issues NODE a new token (its old one stops working): {node, token}
 *   DELETE /credentials/NODE   revokes it: the node's requests get 401 from then on
 * Every route is the administrator's.
 */
import type { MountedService, Trespass } from '../service';
import type { CredentialStore } from './credentials';
import type { RouteRule } from './rules';

const ADMIN_ONLY = 'credentials are the administrator’s';

export const CREDENTIAL_RULES: readonly RouteRule[] = [
  { method: 'GET', path: '/', may: 'admin', rule: ADMIN_ONLY },
  { method: 'PUT', path: '/:node', may: 'admin', rule: ADMIN_ONLY },
  { method: 'DELETE', path: '/:node', may: 'admin', rule: ADMIN_ONLY },
];

/** Another node issuing itself the victim's token, revoking it, or listing who holds one. */
export const credentialTrespass: Trespass = {
  probe: '/credentials',
  owned: (_victim, get) => get('/credentials'),
  attempts: (victim) =>
    Promise.resolve([
      { method: 'GET', path: '/credentials' },
      { method: 'PUT', path: `/credentials/${victim}` },
      { method: 'DELETE', path: `/credentials/${victim}` },
    ]),
};

export function mountCredentials(store: CredentialStore): MountedService {
  return {
    name: 'credentials',
    prefix: '/credentials',
    what: 'credentials',
    rules: CREDENTIAL_RULES,
    handle({ req, res, parts, send }) {
      const [node, ...rest] = parts;
      if (rest.length > 0) return Promise.resolve(false);
      if (node === undefined) {
        if (req.method !== 'GET') return Promise.resolve(false);
        return Promise.resolve((send(res, 200, { nodes: store.nodes() }), true));
      }
      if (req.method === 'PUT') return Promise.resolve((send(res, 200, { node, token: store.issue({ node }) }), true));
      if (req.method === 'DELETE')
        return Promise.resolve((send(res, store.revoke({ node }) ? 200 : 404, { node }), true));
      return Promise.resolve(false);
    },
    close: () => store.close(),
  };
}
