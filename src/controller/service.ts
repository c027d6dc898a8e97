/**
 * A controller service: what a kind serves from the control node — its store behind its HTTP API,
 * under its own path prefix (/v1, /v2.0, /v3). Kinds declare theirs (src/arch/services.ts lists
 * them); the controller parses each service's flags, mounts those whose flags ask for them, and
 * routes every request to them in turn. The controller never names a kind.
 */
import type { ParseArgsConfig } from 'node:util';
import { CnilabError } from '../lib/errors';
import type { DaemonValues } from '../node/daemon';
import type { Method, RouteRule } from './auth/rules';
import type { ServiceRequest } from './request';

export type { ServiceRequest } from './request';

type Options = NonNullable<ParseArgsConfig['options']>;

/** A service with its store open. */
export interface MountedService {
  /** For the controller's messages: "leases (/v1)". */
  readonly name: string;
  /** The first segment of every path it serves: /v1. */
  readonly prefix: string;
  /** What it serves, for the start-up line: "leases for 10.244.0.0/16 (vxlan)". */
  readonly what: string;
  /**
   * Who may call each route (auth/rules.ts): checked before `handle` when the controller checks
   * credentials. A route without a rule is the administrator's alone.
   */
  readonly rules: readonly RouteRule[];
  /** Answers a request under its prefix (only those reach it); false when the path is none of its routes. */
  handle(q: ServiceRequest): Promise<boolean>;
  /** Every change is on disk before it is acknowledged: closing flushes nothing, it wakes the watchers. */
  close(): void;
}

/** A request another node could send, as the NodeRestriction test sends it. */
export interface Attempt {
  readonly method: Method;
  /** The whole path, with its prefix and query: /v1/leases/node2. */
  readonly path: string;
  readonly body?: unknown;
  /**
   * The answer it must get: 403 (the default) for a route or object that is not the caller's; 409
   * for a write of the caller's own object that would take the victim's identity (its VTEP).
   */
  readonly expect?: 403 | 409;
}

/** The administrator's read: the JSON answer of GET `path`. */
export type AdminGet = (path: string) => Promise<unknown>;

/**
 * How a node would trespass on another's objects of a service: the proof of its rules, run from
 * each node's namespace with that node's credential (test/integration/control-auth.test.ts). Every
 * route a node may not call for another (the owning node's and the administrator's, in the docs'
 * table) must be one of the attempts; the test checks that, so a route added later comes with its own.
 */
export interface Trespass {
  /** A GET of the service that the administrator can always make: answered 404 when it is not mounted. */
  readonly probe: string;
  /** `victim`'s objects as the administrator reads them, without what changes by itself (timestamps). */
  owned(victim: string, get: AdminGet): Promise<unknown>;
  /**
   * Requests of node `self` that would change (or read, where only the owner may) `victim`'s
   * objects, or take over what identifies them.
   */
  attempts(victim: string, get: AdminGet, self: string): Promise<readonly Attempt[]>;
}

export interface ControllerService<O extends Options = Options> {
  readonly name: string;
  /** How another node would trespass on a node's objects: every service with owned objects declares it. */
  readonly trespass?: Trespass;
  /** Its flags, on the controller's command line; no two services share one. */
  readonly options: O;
  /**
   * Opens the store when `values` ask for this service (its file's flag is given), else undefined.
   * A flag it cannot use throws INVALID_INPUT naming it: the controller refuses to start.
   */
  open(values: DaemonValues<O>): MountedService | undefined;
}

/** The services' flags beside `own` (the controller's): a flag two of them claim is refused. */
export function serviceOptions(own: Options, services: readonly ControllerService[]): Options {
  const all: Options = { ...own };
  for (const s of services)
    for (const [k, o] of Object.entries(s.options)) {
      if (all[k]) throw new CnilabError('CONFLICT', `controller service ${s.name}: flag --${k} is taken`);
      all[k] = o;
    }
  return all;
}

/**
 * A watched resource's `?index=N&wait=S`: resolves at once without an index, else once `waitForChange`
 * does (the store's index passed N, or S seconds — at most 60 — went by).
 */
export async function longPoll(
  url: URL,
  waitForChange: (index: number, timeoutMs: number) => Promise<void>,
): Promise<void> {
  const index = url.searchParams.get('index');
  if (index === null) return;
  const n = Number(index);
  const wait = Math.min(Number(url.searchParams.get('wait') ?? 30), 60);
  if (!Number.isInteger(n) || n < 0) throw new CnilabError('INVALID_INPUT', 'index: must be a non-negative integer');
  if (!Number.isFinite(wait) || wait < 0) throw new CnilabError('INVALID_INPUT', 'wait: must be a number of seconds');
  await waitForChange(n, wait * 1000);
}
