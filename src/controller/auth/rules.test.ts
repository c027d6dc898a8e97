import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import type { ServiceRequest } from '../service';
import { authorize, matchRule, type RouteRule } from './rules';

const RULES: readonly RouteRule[] = [
  { method: 'GET', path: '/things', may: 'nodes', rule: 'every node reads things' },
  { method: 'POST', path: '/things', may: 'admin', rule: 'things are the administrator’s' },
  { method: 'PUT', path: '/things/:owner/:id', may: (_q, p) => [p.owner!], rule: 'a node writes only its own things' },
];

function request(method: string, path: string): ServiceRequest {
  const url = new URL(path, 'http://controller');
  return {
    req: { method } as IncomingMessage,
    res: undefined as never,
    url,
    parts: url.pathname.split('/').filter(Boolean).slice(1),
    readBody: () => Promise.resolve({}),
    send: () => undefined,
  };
}

test('matchRule: method and segments, `:name` taking one segment as a parameter', () => {
  assert.deepEqual(matchRule(RULES, 'PUT', ['things', 'node1', '7'])?.params, { owner: 'node1', id: '7' });
  assert.equal(matchRule(RULES, 'PUT', ['things', 'node1'])?.rule, undefined);
  assert.equal(matchRule(RULES, 'DELETE', ['things'])?.rule, undefined);
  assert.equal(matchRule(RULES, 'GET', ['things'])?.rule, RULES[0]);
});

const authorizeTitle =
  'authorize: the administrator may everything; a node what the rules give it, else FORBIDDEN naming the rule';
test(authorizeTitle, async () => {
  const node1 = { node: 'node1' };
  for (const [m, p] of [
    ['POST', '/x/things'],
    ['PUT', '/x/things/node2/1'],
    ['DELETE', '/x/other'],
  ] as const)
    await authorize(RULES, { admin: true }, request(m, p));
  await authorize(RULES, node1, request('GET', '/x/things'));
  await authorize(RULES, node1, request('PUT', '/x/things/node1/1'));
  await assert.rejects(authorize(RULES, node1, request('PUT', '/x/things/node2/1')), {
    code: 'FORBIDDEN',
    message: "node node1 may not PUT /x/things/node2/1: a node writes only its own things (it is node node2's)",
  });
  await assert.rejects(authorize(RULES, node1, request('POST', '/x/things')), {
    code: 'FORBIDDEN',
    message: 'node node1 may not POST /x/things: things are the administrator’s',
  });
  // A route without a rule is the administrator's: a route added without its rule is closed to nodes.
  await assert.rejects(authorize(RULES, node1, request('DELETE', '/x/other')), {
    code: 'FORBIDDEN',
    message: 'node node1 may not DELETE /x/other: no rule lets a node; only the administrator may',
  });
});
