/**
 * The control node's HTTP API: the lease store (flannel) and the port controller (Kuryr, under
 * /v2.0, see neutron/api.ts) in one process. The lease store's routes:
 *   GET    /v1/config                 network configuration
 *   GET    /v1/leases?index=N&wait=S  all leases; with index, waits (long-poll, ≤ S s) for a newer index
 *   PUT    /v1/leases/NODE            acquire or renew {publicIp, backendType, backendData}
 *   DELETE /v1/leases/NODE            release
 * Every request body is validated; a bad one gets a 4xx naming the field.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { z } from 'zod';
import { isIPv4 } from '../lib/cidr';
import { isCnilabError, messageOf } from '../lib/errors';
import type { LeaseStore } from './lease-store';
import { handleNeutron } from '../neutron/api';
import type { NeutronStore } from '../neutron/store';

const leaseBody = z.strictObject({
  publicIp: z.string().refine(isIPv4, 'must be an IPv4 address'),
  backendType: z.string().regex(/^[a-z][a-z0-9-]{0,15}$/, 'must be a backend name'),
  backendData: z.record(z.string().regex(/^[A-Za-z][A-Za-z0-9]{0,31}$/, 'keys must be short identifiers'), z.string().max(256)).optional(),
});

const NODE = /^[a-z][a-z0-9-]{0,14}$/;

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
    if (size > 64 * 1024) throw Object.assign(new Error('body larger than 64 KiB'), { status: 413 });
    chunks.push(c);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw Object.assign(new Error('body is not JSON'), { status: 400 });
  }
}

export interface ControlStores {
  /** Absent when the lab runs no flannel backend. */
  readonly leases?: LeaseStore;
  readonly neutron?: NeutronStore;
}

export function createControlServer(stores: ControlStores): Server {
  return createServer((req, res) => {
    void handle(stores, req, res).catch((e: unknown) => {
      const status = (e as { status?: number }).status ?? (isCnilabError(e, 'DUPLICATE') ? 409 : isCnilabError(e) ? 400 : 500);
      send(res, status, { error: messageOf(e) });
    });
  });
}

async function handle(stores: ControlStores, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://store');
  if (stores.neutron && (await handleNeutron(stores.neutron, req, res, url, () => readBody(req), send))) return;
  const store = stores.leases;
  if (!store) return send(res, 404, { error: `no route ${req.method} ${url.pathname}: this controller serves no leases` });
  const parts = url.pathname.split('/').filter(Boolean);
  if (req.method === 'GET' && url.pathname === '/v1/config') return send(res, 200, store.config);
  if (req.method === 'GET' && url.pathname === '/v1/leases') {
    const index = url.searchParams.get('index');
    if (index !== null) {
      const n = Number(index);
      const wait = Math.min(Number(url.searchParams.get('wait') ?? 30), 60);
      if (!Number.isInteger(n) || n < 0) return send(res, 400, { error: 'index: must be a non-negative integer' });
      if (!Number.isFinite(wait) || wait < 0) return send(res, 400, { error: 'wait: must be a number of seconds' });
      await store.waitForChange(n, wait * 1000);
    }
    return send(res, 200, store.snapshot());
  }
  if (parts.length === 3 && parts[0] === 'v1' && parts[1] === 'leases') {
    const node = parts[2]!;
    if (!NODE.test(node)) return send(res, 400, { error: `node: ${JSON.stringify(node)} is not a node name` });
    if (req.method === 'PUT') {
      const parsed = leaseBody.safeParse(await readBody(req));
      if (!parsed.success) {
        const i = parsed.error.issues[0]!;
        return send(res, 400, { error: `${i.path.join('.') || 'body'}: ${i.message}` });
      }
      return send(res, 200, store.acquire({ node, ...parsed.data }));
    }
    if (req.method === 'DELETE') return send(res, store.release(node) ? 200 : 404, { node });
  }
  send(res, 404, { error: `no route ${req.method} ${url.pathname}` });
}
