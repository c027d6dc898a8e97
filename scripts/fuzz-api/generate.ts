/**
 * One request of the API fuzzer, from the seeded generator: who sends it (a node's credential, the
 * administrator's, a revoked one, garbage or none), a method, a path (a route's template filled
 * with valid, foreign or hostile parameters, or an unknown path), headers and a body (valid,
 * spoiled, junk). About 1 in 50 is malformed HTTP written to the socket raw.
 */
import type { Model } from './model';
import type { Rng } from './rng';
import { ROUTES, type Gen, type RouteSpec } from './routes';
import { HOSTILE_SEGMENTS, junkBody, mutate } from './values';

/** The tokens the fuzzer holds. */
export interface Tokens {
  readonly admin: string;
  /** Each node's own. */
  readonly nodes: Readonly<Record<string, string>>;
  /** A node's token the administrator revoked. */
  readonly revoked: string;
}

export type Sender = 'admin' | 'node' | 'revoked' | 'garbage' | 'none';

export interface FuzzRequest {
  readonly index: number;
  /** For the counts: `PUT /v1/leases/:node`, `(PATCH on a route)`, `(unknown path)`, `(junk method)`, `(raw HTTP)`. */
  readonly route: string;
  readonly sender: Sender;
  /** The node whose credential it carries (sender 'node'). */
  readonly node?: string;
  readonly method: string;
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: Buffer;
  /** Malformed HTTP, written to the socket as is (method, path and headers are then only labels). */
  readonly raw?: Buffer;
}

const METHODS = ['GET', 'PUT', 'POST', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS'];
const JUNK_METHODS = ['FOO', 'get', 'PROPFIND', 'M-SEARCH', 'PURGE', 'X'.repeat(100)];

const UNKNOWN_PATHS: readonly string[] = [
  '/',
  '//',
  '///v1//leases',
  '//v1/config',
  '/v4/anything',
  '/v1',
  '/v2.0',
  '/v3',
  '/v1/leases/node1/extra',
  '/v1/../credentials',
  '/v2.0/../../../etc/passwd',
  '/v3/./state',
  '/v1/leases/..',
  '/v1/leases/../config',
  '/credentials/../v1/leases',
  '/credentials/a/b',
  '/v2.0/ports/x/y/z',
  '/v3/ipam',
  '/v3/ipam/assign/extra',
  '/v3/ipam/allocations/extra',
  '/v2.0/routers/r/unknown_action',
  `/v1/leases/${'a'.repeat(20_000)}`,
  '/%',
  '/%zz/%00',
  '/v2.0/%6eetworks',
  '*',
  'v1/config',
  'http://controller/v1/config',
  'http://[',
  '/v1/config?%zz=%zz&a=1&a=2',
  '/v2.0/ports?hostId=%ff%fe',
  '/v2.0/ports/%00?status=ACTIVE&wait=0',
];

function pickRoute(rng: Rng): RouteSpec {
  return rng.weighted(ROUTES.map((r) => [r.weight, r] as const));
}

function authorization(rng: Rng, token: string): string {
  return rng.weighted<() => string>([
    [12, () => `Bearer ${token}`],
    [1, () => `bearer ${token}`],
    [1, () => `Bearer   ${token}  `],
  ])();
}

function garbageAuthorization(rng: Rng, t: Tokens): string | undefined {
  return rng.pick([
    'Bearer',
    'Bearer ',
    `Basic ${Buffer.from('admin:admin').toString('base64')}`,
    `Bearer ${t.nodes[Object.keys(t.nodes)[0]!]!.slice(0, -1)}`,
    `Bearer ${t.admin}x`,
    `Bearer ${t.admin} ${t.admin}`,
    `Bearer ${'A'.repeat(8000)}`,
    'Bearer cnilab1_',
    `Token ${t.admin}`,
    'Bearer \u00ff\u00fe',
  ]);
}

/** The request at `index`: the same seed, index and model give the same request. */
export function generate(rng: Rng, index: number, model: Model, tokens: Tokens): FuzzRequest {
  const nodes = Object.keys(tokens.nodes);
  const sender = rng.weighted<Sender>([
    [58, 'node'],
    [18, 'admin'],
    [8, 'revoked'],
    [8, 'garbage'],
    [8, 'none'],
  ]);
  const node = sender === 'node' ? rng.pick(nodes) : undefined;
  const headers: Record<string, string> = {};
  const auth =
    sender === 'node'
      ? authorization(rng, tokens.nodes[node!]!)
      : sender === 'admin'
        ? authorization(rng, tokens.admin)
        : sender === 'revoked'
          ? `Bearer ${tokens.revoked}`
          : sender === 'garbage'
            ? garbageAuthorization(rng, tokens)
            : undefined;
  if (auth !== undefined) headers.authorization = auth;
  if (rng.chance(0.02)) return rawRequest(rng, index, sender, node, auth);
  const g: Gen = { rng, self: node, nodes, model };
  const spec = pickRoute(rng);
  const shape = rng.weighted<'route' | 'method' | 'junk-method' | 'unknown'>([
    [86, 'route'],
    [6, 'method'],
    [2, 'junk-method'],
    [6, 'unknown'],
  ]);
  let method = shape === 'method' ? rng.pick(METHODS) : shape === 'junk-method' ? rng.pick(JUNK_METHODS) : spec.method;
  let path = fillPath(g, spec);
  let route = `${spec.method} ${spec.template}`;
  if (shape === 'unknown') {
    [method, path, route] = [rng.pick(METHODS), rng.pick(UNKNOWN_PATHS), '(unknown path)'];
  } else if (shape === 'junk-method') route = '(junk method)';
  else if (method !== spec.method) route = `(${method} on a route)`;
  headers['content-type'] = rng.weighted([
    [8, 'application/json'],
    [1, 'text/plain'],
    [1, 'application/json; charset=utf-16'],
    [1, 'multipart/form-data; boundary=x'],
  ]);
  if (rng.chance(0.02)) headers['x-padding'] = 'p'.repeat(rng.pick([100, 9000, 20_000]));
  if (rng.chance(0.01)) headers['content-encoding'] = 'gzip';
  const body = makeBody(rng, g, spec, method);
  return { index, route, sender, ...(node ? { node } : {}), method, path, headers, ...(body ? { body } : {}) };
}

function fillPath(g: Gen, spec: RouteSpec): string {
  const path = spec.template
    .split('/')
    .map((s) => (s.startsWith(':') ? (spec.params?.[s.slice(1)]?.(g) ?? g.rng.pick(HOSTILE_SEGMENTS)) : s))
    .join('/');
  return path + (spec.query?.(g) ?? '');
}

function makeBody(rng: Rng, g: Gen, spec: RouteSpec, method: string): Buffer | undefined {
  const valid = spec.body?.(g);
  if (valid === undefined) return rng.chance(0.1) ? junkBody(rng, {}) : undefined;
  if (method === 'GET' || method === 'HEAD') return undefined;
  const kind = rng.weighted<'valid' | 'mutated' | 'junk' | 'none'>([
    [50, 'valid'],
    [32, 'mutated'],
    [14, 'junk'],
    [4, 'none'],
  ]);
  if (kind === 'none') return undefined;
  if (kind === 'junk') return junkBody(rng, valid);
  return Buffer.from(JSON.stringify(kind === 'valid' ? valid : mutate(rng, valid)));
}

/** Malformed HTTP/1.1: bad framing, bad versions, bytes that are no HTTP, a body cut short. */
function rawRequest(
  rng: Rng,
  index: number,
  sender: Sender,
  node: string | undefined,
  auth: string | undefined,
): FuzzRequest {
  const a = auth === undefined ? '' : `Authorization: ${auth}\r\n`;
  const text = rng.pick([
    'GET /v1/config HTTP/9.9\r\n\r\n',
    `GET /v1/config HTTP/1.1\r\nHost: x\r\n${a}Content-Length: -1\r\n\r\n`,
    `POST /v3/ipam/assign HTTP/1.1\r\nHost: x\r\n${a}Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n`,
    `POST /v3/ipam/assign HTTP/1.1\r\nHost: x\r\n${a}Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n`,
    `PUT /v1/leases/${node ?? 'node1'} HTTP/1.1\r\nHost: x\r\n${a}Content-Length: 100\r\n\r\n{"publicIp":`,
    '\u0000\u0001\u0002\r\n\r\n',
    'GET / HTTP/1.1\r\nHost: x\r\nBad Header Line\r\n\r\n',
    `GET /v1/leases HTTP/1.1\r\nHost: x\r\n${a}${'X-A: b\r\n'.repeat(3000)}\r\n`,
    `GET /v1/config HTTP/1.1\r\nHost: x\r\n${a}\r\nGET /v2.0/networks HTTP/1.1\r\nHost: x\r\n${a}\r\n`,
    `GET /v1/config HTTP/1.0\r\n${a}\r\n`,
    `GET /v1/config\r\n\r\n`,
    `DELETE /v1/leases/${node ?? 'node1'} HTTP/1.1\r\nHost: x\r\n${a}Content-Length: 1\r\nContent-Length: 2\r\n\r\nab`,
  ]);
  return {
    index,
    route: '(raw HTTP)',
    sender,
    ...(node ? { node } : {}),
    method: text.split(' ')[0]!.slice(0, 10),
    path: '',
    headers: {},
    raw: Buffer.from(text, 'latin1'),
  };
}
