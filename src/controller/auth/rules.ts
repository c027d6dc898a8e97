/**
 * NodeRestriction for the controller's services: each service declares, per route, who may call
 * it — every node (what a node's role reads), only the administrator, or the nodes that own what
 * the request changes — and `authorize` holds every request to it before the service sees it.
 * The administrator (the lab's CLI) may call every route. A route no rule names is the
 * administrator's: a route added without its rule is refused to nodes, never opened to them.
 * The controller knows no kind: the rules come with the services (src/arch/services.ts).
 *
 * The check runs before the handler, not inside the store's transaction: between the two only
 * promise continuations run (the stores are synchronous SQLite), so another request's write can
 * slip in only if its own continuation is queued in the same turn. Where an owner the check found
 * could change in that moment (a name any node may take, as an IPAM handle; not a port ID, which
 * the store makes), the handler also scopes its write to `ServiceRequest.caller`.
 */
import { CnilabError } from '../../lib/errors';
import type { ServiceRequest } from '../request';
import { describe, type Principal } from './credentials';

export type Method = 'GET' | 'PUT' | 'POST' | 'DELETE';

/**
 * The nodes owning what a request would change, found from its path's parameters, its body or the
 * store: each must be the caller. Empty when it changes nothing anyone owns (an unknown ID the
 * handler answers 404, a body the handler refuses with 400).
 */
export type OwnersOf = (
  q: ServiceRequest,
  params: Readonly<Record<string, string>>,
) => readonly string[] | Promise<readonly string[]>;

export interface RouteRule {
  readonly method: Method;
  /** The path after the service's prefix; a segment `:name` matches any one segment, given as params.name. */
  readonly path: string;
  /** 'nodes': every node; 'admin': the administrator only; a function: the nodes owning what it changes. */
  readonly may: 'nodes' | 'admin' | OwnersOf;
  /** The rule in a few words, for the 403 and the docs' table: "a node writes only its own lease". */
  readonly rule: string;
}

/** The parameters of `parts` (a path's segments) under `template` (`/leases/:node`), or undefined when it does not match. */
export function matchPath(template: string, parts: readonly string[]): Record<string, string> | undefined {
  const want = template.split('/').filter(Boolean);
  if (want.length !== parts.length) return undefined;
  const params: Record<string, string> = {};
  const fits = want.every((w, i) => (w.startsWith(':') ? ((params[w.slice(1)] = parts[i]!), true) : w === parts[i]));
  return fits ? params : undefined;
}

/** The route of `rules` matching `method` and the path's `parts` (after the prefix), with its parameters. */
export function matchRule(
  rules: readonly RouteRule[],
  method: string,
  parts: readonly string[],
): { rule: RouteRule; params: Record<string, string> } | undefined {
  for (const rule of rules) {
    const params = rule.method === method ? matchPath(rule.path, parts) : undefined;
    if (params) return { rule, params };
  }
  return undefined;
}

/** Throws FORBIDDEN, naming the rule, unless `who` may make request `q` under `rules`. */
export async function authorize(rules: readonly RouteRule[], who: Principal, q: ServiceRequest): Promise<void> {
  if ('admin' in who) return;
  const method = q.req.method ?? '';
  const what = `${method} ${q.url.pathname}`;
  const found = matchRule(rules, method, q.parts);
  if (!found)
    throw new CnilabError(
      'FORBIDDEN',
      `${describe(who)} may not ${what}: no rule lets a node; only the administrator may`,
    );
  const { rule, params } = found;
  if (rule.may === 'nodes') return;
  if (rule.may === 'admin') throw new CnilabError('FORBIDDEN', `${describe(who)} may not ${what}: ${rule.rule}`);
  const others = [...new Set(await rule.may(q, params))].filter((o) => o !== who.node);
  if (others.length === 0) return;
  const whose = others.map((o) => (o ? `node ${o}'s` : "the administrator's")).join(', ');
  throw new CnilabError('FORBIDDEN', `${describe(who)} may not ${what}: ${rule.rule} (it is ${whose})`);
}

/** What `may` means, in the docs' words. */
export function whoMay(rule: RouteRule): string {
  return rule.may === 'nodes' ? 'every node' : rule.may === 'admin' ? 'administrator only' : 'the owning node';
}

/** The docs' table rows (docs/controller.md), one per rule: | route | who may | the rule |. */
export function ruleRows(
  services: readonly { readonly prefix: string; readonly rules: readonly RouteRule[] }[],
): string[] {
  return services.flatMap((s) =>
    s.rules.map((r) => {
      const path = `${s.prefix}${r.path === '/' ? '' : r.path}`;
      return `| \`${r.method} ${path}\` | ${whoMay(r)} | ${r.rule} |`;
    }),
  );
}
