/**
 * The control node's process, the controller: one HTTP server in front of the services its lab's
 * kind mounted (service.ts), each under its own path prefix. With `auth`, every request carries a
 * node's or the administrator's bearer token (401 without one the controller knows) and is held to
 * its service's rules (403 naming the rule) before the service sees it: auth/.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { CnilabError, httpStatusOf, isCnilabError, messageOf } from '../lib/errors';
import type { CredentialStore, Principal } from './auth/credentials';
import { authorize } from './auth/rules';
import type { MountedService, ServiceRequest } from './service';

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > 64 * 1024) throw new CnilabError('BODY_TOO_LARGE', 'body larger than 64 KiB');
    chunks.push(c);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new CnilabError('INVALID_INPUT', 'body is not JSON');
  }
}

export interface ControlServerOptions {
  /** Check credentials and rules on every request. Default: none, every request may do anything (before issue 31). */
  readonly auth?: CredentialStore;
}

export function createControlServer(services: readonly MountedService[], o: ControlServerOptions = {}): Server {
  return createServer((req, res) => {
    void handle(services, o, req, res).catch((e: unknown) => {
      if (isCnilabError(e, 'UNAUTHENTICATED')) res.setHeader('www-authenticate', 'Bearer realm="cnilab"');
      send(res, httpStatusOf(e), { error: messageOf(e) });
    });
  });
}

/** The token of `Authorization: Bearer …`, or undefined. */
function bearer(req: IncomingMessage): string | undefined {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
  return m?.[1];
}

/** Who sent `req`; UNAUTHENTICATED (401) when no token, or one never issued or revoked. Never echoes the token. */
function authenticate(store: CredentialStore, req: IncomingMessage): Principal {
  const token = bearer(req);
  if (token === undefined)
    throw new CnilabError(
      'UNAUTHENTICATED',
      'no credential: send "Authorization: Bearer TOKEN" with the token of the file the lab gave the node',
    );
  const who = store.verify(token);
  if (!who) throw new CnilabError('UNAUTHENTICATED', 'credential unknown or revoked: the controller does not know it');
  return who;
}

/**
 * The URL of a request's target: a path (HTTP's origin form), or an absolute http URL. `//` or
 * `http://[` made `new URL(target, base)` throw (a 500), and `//v1/config` named a host; now a
 * target starting with / is the path, whole, and any other is INVALID_INPUT.
 */
function targetUrl(target = '/'): URL {
  try {
    if (target.startsWith('/')) return new URL(`http://controller${target}`);
    if (/^http:\/\//i.test(target)) return new URL(target);
  } catch {
    /* refused below */
  }
  throw new CnilabError('INVALID_INPUT', `request target ${JSON.stringify(target.slice(0, 80))} is not a path`);
}

async function handle(
  services: readonly MountedService[],
  o: ControlServerOptions,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const url = targetUrl(req.url);
  const [first, ...parts] = url.pathname.split('/').filter(Boolean);
  const service = services.find((s) => s.prefix === `/${first}`);
  let body: Promise<unknown> | undefined;
  const who = o.auth ? authenticate(o.auth, req) : undefined;
  const caller = who && 'node' in who ? { caller: who.node } : {};
  const q: ServiceRequest = { req, res, url, parts, readBody: () => (body ??= readBody(req)), send, ...caller };
  if (service && who) await authorize(service.rules, who, q);
  if (service && (await service.handle(q))) return;
  const serves = services.map((s) => `${s.name} (${s.prefix})`).join(' and ');
  send(res, 404, { error: `no route ${req.method} ${url.pathname}: this controller serves ${serves || 'nothing'}` });
}
