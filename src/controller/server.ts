/**
 * The control node's process, the controller: one HTTP server in front of the services its lab's
 * kind mounted (service.ts), each under its own path prefix.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { CnilabError, httpStatusOf, messageOf } from '../lib/errors';
import type { MountedService } from './service';

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

export function createControlServer(services: readonly MountedService[]): Server {
  return createServer((req, res) => {
    void handle(services, req, res).catch((e: unknown) => {
      send(res, httpStatusOf(e), { error: messageOf(e) });
    });
  });
}

async function handle(services: readonly MountedService[], req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://controller');
  const [first, ...parts] = url.pathname.split('/').filter(Boolean);
  const service = services.find((s) => s.prefix === `/${first}`);
  const q = { req, res, url, parts, readBody: () => readBody(req), send };
  if (service && (await service.handle(q))) return;
  const serves = services.map((s) => `${s.name} (${s.prefix})`).join(' and ');
  send(res, 404, { error: `no route ${req.method} ${url.pathname}: this controller serves ${serves || 'nothing'}` });
}
