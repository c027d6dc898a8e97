/**
 * The API fuzzer's run: start the controller (controller.ts), give four nodes their credentials and
 * a revoked fifth, lay a little state down, then send N generated requests one after the other —
 * one at a time, so the same seed replays the same run — judging each answer; stop the controller
 * and check its stores (check.ts). Returns what it saw; the caller prints it.
 */
import { isAlive } from '../../src/lib/exec';
import { checkStores } from './check';
import { startController, tail, type FuzzController } from './controller';
import { generate, type FuzzRequest, type Sender, type Tokens } from './generate';
import { Model, type Exchange } from './model';
import { Rng } from './rng';
import { send, type Answer } from './send';

export interface FuzzOptions {
  readonly requests: number;
  readonly seed: number;
  /** An answer later than this is a failure. Default: 5000 ms. */
  readonly timeoutMs?: number;
  /** Stops the run (Ctrl-C): the controller and its namespace are removed all the same. */
  readonly signal?: AbortSignal;
}

export interface Failure {
  readonly index: number;
  readonly route: string;
  readonly sender: Sender;
  readonly method: string;
  /** The path, cut at 120 characters. */
  readonly path: string;
  readonly status: string;
  readonly reason: string;
}

export interface FuzzResult {
  readonly seed: number;
  readonly requests: number;
  readonly seconds: number;
  /** Per route (its method and template, or a bracketed kind of junk): per status (or error), how many. */
  readonly counts: Record<string, Record<string, number>>;
  readonly senders: Record<Sender, number>;
  /** Requests carrying a node's valid credential, and those of them not answered 401 (they reached the rules and handlers). */
  readonly withNodeCredential: number;
  readonly pastAuthentication: number;
  /** The requests that broke a rule (the first 50) and how many did. */
  readonly failures: readonly Failure[];
  readonly failureCount: number;
  /** What the stores' checks found after the run. */
  readonly invariants: readonly string[];
  readonly controllerAlive: boolean;
  /** The controller's process, namespace and folder: gone once the run returns. */
  readonly controller: { readonly pid: number; readonly netns: string; readonly dir: string };
  /** Set when the controller died: the last lines of its log. */
  readonly controllerLog?: string;
}

const NODES = ['node1', 'node2', 'node3', 'node4'];

export async function fuzzApi(o: FuzzOptions): Promise<FuzzResult> {
  const started = performance.now();
  const ctl = await startController();
  try {
    const tokens = await credentials(ctl, o.timeoutMs ?? 5000);
    const model = new Model();
    const tally = new Tally();
    for (const r of setupRequests(tokens)) {
      const a = await send(ctl.socket, r, o.timeoutMs ?? 5000);
      if (a.status < 200 || a.status > 299) throw new Error(`setup ${r.method} ${r.path}: ${a.status} ${a.text}`);
      model.apply(exchange(r, a));
    }
    const rng = new Rng(o.seed);
    let alive = true;
    for (let i = 0; i < o.requests && alive; i++) {
      if (o.signal?.aborted) throw new Error('interrupted');
      const r = generate(rng, i, model, tokens);
      const a = await send(ctl.socket, r, o.timeoutMs ?? 5000);
      tally.judge(r, a, model);
      if (i % 100 === 99) alive = isAlive(ctl.pid);
    }
    alive &&= isAlive(ctl.pid);
    if (!alive) tally.fail(undefined, 'the controller died');
    await ctl.stop();
    const invariants = alive ? checkStores(ctl.files, model) : [];
    return {
      seed: o.seed,
      requests: o.requests,
      seconds: Math.round((performance.now() - started) / 100) / 10,
      ...tally.result(),
      invariants,
      controllerAlive: alive,
      controller: { pid: ctl.pid, netns: ctl.netns, dir: ctl.dir },
      ...(alive ? {} : { controllerLog: tail(ctl.files.log) }),
    };
  } finally {
    await ctl.remove();
  }
}

/** Issues the nodes' tokens, and one the administrator then revokes. */
async function credentials(ctl: FuzzController, timeoutMs: number): Promise<Tokens> {
  const issue = async (node: string, method = 'PUT'): Promise<string> => {
    const r: FuzzRequest = {
      index: -1,
      route: 'setup',
      sender: 'admin',
      method,
      path: `/credentials/${node}`,
      headers: { authorization: `Bearer ${ctl.admin}` },
    };
    const a = await send(ctl.socket, r, timeoutMs);
    if (a.status !== 200) throw new Error(`${method} /credentials/${node}: ${a.status} ${a.error ?? a.text}`);
    return (JSON.parse(a.text) as { token?: string }).token ?? '';
  };
  const nodes: Record<string, string> = {};
  for (const n of NODES) nodes[n] = await issue(n);
  const revoked = await issue('node9');
  await issue('node9', 'DELETE');
  return { admin: ctl.admin, nodes, revoked };
}

/** A network with a subnet, and each node's lease, IPAM node and agent: so that nodes' requests find something. */
function setupRequests(t: Tokens): FuzzRequest[] {
  const req = (token: string, method: string, path: string, body: unknown): FuzzRequest => ({
    index: -1,
    route: 'setup',
    sender: token === t.admin ? 'admin' : 'node',
    ...(token === t.admin ? {} : { node: path.split('/').pop()! }),
    method,
    path,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: Buffer.from(JSON.stringify(body)),
  });
  return [
    req(t.admin, 'POST', '/v2.0/networks', { network: { name: 'seed', segmentationType: 'vxlan' } }),
    req(t.admin, 'POST', '/v2.0/subnets', { subnet: { networkId: 'seed', cidr: '10.110.0.0/24' } }),
    ...NODES.flatMap((n, i) => [
      req(t.nodes[n]!, 'PUT', `/v1/leases/${n}`, {
        publicIp: `198.18.9.${i + 1}`,
        backendType: 'vxlan',
        backendData: { vtepMac: `0a:00:00:00:09:0${i + 1}` },
      }),
      req(t.nodes[n]!, 'PUT', `/v3/nodes/${n}`, { ip: `198.18.9.${i + 1}` }),
    ]),
  ];
}

/** What the model reads of an exchange. */
function exchange(r: FuzzRequest, a: Answer): Exchange {
  const json = (text: string | undefined): unknown => {
    try {
      return text === undefined ? undefined : JSON.parse(text);
    } catch {
      return undefined;
    }
  };
  return {
    // The controller's parser takes `get` for GET.
    method: r.method.toUpperCase(),
    pathname: pathnameOf(r.path),
    node: r.sender === 'node' ? r.node : undefined,
    body: json(r.body?.toString('utf8')),
    status: a.status,
    answer: json(a.text),
  };
}

/** The path as the controller routes it (src/controller/server.ts); '' for a target it refuses. */
export function pathnameOf(target: string): string {
  try {
    if (target.startsWith('/')) return new URL(`http://controller${target}`).pathname;
    if (/^http:\/\//i.test(target)) return new URL(target).pathname;
  } catch {
    /* refused */
  }
  return '';
}

/** The counts, and the judgement of each answer. */
class Tally {
  private readonly counts: Record<string, Record<string, number>> = {};
  private readonly senders: Record<Sender, number> = { node: 0, admin: 0, revoked: 0, garbage: 0, none: 0 };
  private withNode = 0;
  private reached = 0;
  private readonly failures: Failure[] = [];
  private failureCount = 0;

  judge(r: FuzzRequest, a: Answer, model: Model): void {
    const status = a.status ? String(a.status) : (a.error ?? 'none');
    const row = (this.counts[r.route] ??= {});
    row[status] = (row[status] ?? 0) + 1;
    this.senders[r.sender]++;
    const valid = r.sender === 'node' || r.sender === 'admin';
    if (r.sender === 'node' && !r.raw) {
      this.withNode++;
      if (a.status !== 401 && a.status !== 0) this.reached++;
    }
    const fail = (reason: string): void => this.fail({ r, status }, reason);
    if (a.status >= 500) fail(`answered ${a.status}: ${a.text.slice(0, 200)}`);
    if (r.raw) return;
    if (a.error === 'timeout') fail('no answer in time');
    if (a.error?.startsWith('not sent')) fail(`the fuzzer made a request node:http refuses: ${a.error}`);
    if (valid && a.status === 401) fail('a valid credential was refused (401)');
    if (!valid && a.status !== 0 && ![400, 401, 431].includes(a.status))
      fail(`no valid credential, yet answered ${a.status}`);
    if (a.status === 0 || !valid) return;
    const x = exchange(r, a);
    const wrong = model.ownership(x);
    if (wrong) fail(wrong);
    model.apply(x);
  }

  fail(at: { r: FuzzRequest; status: string } | undefined, reason: string): void {
    this.failureCount++;
    if (this.failures.length >= 50) return;
    const r = at?.r;
    this.failures.push({
      index: r?.index ?? -1,
      route: r?.route ?? '',
      sender: r?.sender ?? 'none',
      method: r?.method ?? '',
      path: (r?.path ?? '').slice(0, 120),
      status: at?.status ?? '',
      reason,
    });
  }

  result(): Pick<
    FuzzResult,
    'counts' | 'senders' | 'withNodeCredential' | 'pastAuthentication' | 'failures' | 'failureCount'
  > {
    return {
      counts: this.counts,
      senders: this.senders,
      withNodeCredential: this.withNode,
      pastAuthentication: this.reached,
      failures: this.failures,
      failureCount: this.failureCount,
    };
  }
}
