/**
 * The control node's process, the controller: one HTTP server in front of flannel's lease store
 * (/v1, see flannel/subnet/api.ts), the port controller (Kuryr's Neutron, /v2.0, see
 * kuryr/neutron/api.ts) and Calico's IPAM blocks (/v3, see calico/ipam/api.ts), whichever the lab runs.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { CnilabError, httpStatusOf, messageOf } from '../lib/errors';
import { handleLeases } from '../flannel/subnet/api';
import type { LeaseStore } from '../flannel/subnet/lease-store';
import { handleNeutron } from '../kuryr/neutron/api';
import type { NeutronStore } from '../kuryr/neutron/store';
import { handleIpam } from '../calico/ipam/api';
import type { IpamStore } from '../calico/ipam/store';

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

export interface ControlStores {
  /** Absent when the lab runs no flannel backend. */
  readonly leases?: LeaseStore;
  readonly neutron?: NeutronStore;
  /** Absent when the lab runs no calico architecture. */
  readonly ipam?: IpamStore;
}

export function createControlServer(stores: ControlStores): Server {
  return createServer((req, res) => {
    void handle(stores, req, res).catch((e: unknown) => {
      send(res, httpStatusOf(e), { error: messageOf(e) });
    });
  });
}

async function handle(stores: ControlStores, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://controller');
  const body = (): Promise<unknown> => readBody(req);
  if (stores.neutron && (await handleNeutron(stores.neutron, req, res, url, body, send))) return;
  if (stores.leases && (await handleLeases(stores.leases, req, res, url, body, send))) return;
  if (stores.ipam && (await handleIpam(stores.ipam, req, res, url, body, send))) return;
  const serves = [
    stores.leases ? 'leases (/v1)' : '',
    stores.neutron ? 'ports (/v2.0)' : '',
    stores.ipam ? 'IPAM blocks (/v3)' : '',
  ]
    .filter(Boolean)
    .join(' and ');
  send(res, 404, { error: `no route ${req.method} ${url.pathname}: this controller serves ${serves || 'nothing'}` });
}
