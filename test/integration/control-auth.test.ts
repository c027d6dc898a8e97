/**
 * NodeRestriction from inside the lab (issue 31), for one lab of each kind whose control plane runs
 * a controller (the registry's first architecture of the kind this host carries):
 *   - from each compute node's namespace, with that node's credential, every attempt of every
 *     mounted service's `trespass` (and the credentials' own) on another node's objects gets 403
 *     naming the rule of the docs' table, and changes nothing the administrator reads;
 *   - the same attempts without a credential get 401;
 *   - no route a node may not call (docs/controller.md) is left without an attempt;
 *   - the tokens are in no lab process's argv or environment, and in no file of the run folder
 *     but the credential files;
 *   - a node that left: its credential gets 401 (where the kind's nodes can leave).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { architectures } from '../../src/arch';
import { controllerServices } from '../../src/arch/services';
import { matchPath } from '../../src/controller/auth/rules';
import { credentialTrespass } from '../../src/controller/auth/service';
import type { Attempt, Trespass } from '../../src/controller/service';
import { missingReason, probeFeatures } from '../../src/doctor/features';
import { runIn } from '../../src/lib/netns';
import { REPO_ROOT } from '../../src/lib/paths';
import { writeCredential } from '../../src/lib/credential';
import { adminCredentialFile, credentialFile } from '../../src/lab/credentials';
import { nodeNetns, runDir } from '../../src/lab/names';
import { leaveNode } from '../../src/lab/nodes';
import { controllerUrl, controlRequest } from '../../src/lab/processes';
import type { LabState } from '../../src/lab/state';
import { labNamespaces, pidsInNetns } from '../../src/lab/teardown';
import type { Answer } from './as-node';
import { withLab } from './helpers';

const AS_NODE = join(__dirname, 'as-node.js');
const TRESPASSES: readonly Trespass[] = [
  ...controllerServices.flatMap((s) => (s.trespass ? [s.trespass] : [])),
  credentialTrespass,
];

/** docs/controller.md's rows: | `METHOD /path` | who may | rule |. */
const TABLE = [
  ...readFileSync(join(REPO_ROOT, 'docs/controller.md'), 'utf8').matchAll(
    /^\| `(\w+) (\S+)` \| ([^|]+) \| ([^|]+) \|$/gm,
  ),
].map(([, method, path, who, rule]) => ({ method: method!, path: path!, who: who!.trim(), rule: rule!.trim() }));

/** The table's row of an attempt: its method, and its path (query left out) matching the row's template. */
function rowOf(a: Attempt): (typeof TABLE)[number] | undefined {
  const parts = a.path.split('?')[0]!.split('/').filter(Boolean);
  return TABLE.find((r) => r.method === a.method && matchPath(r.path, parts) !== undefined);
}

/** Sends `attempts` from namespace `ns` with the token in `credential` (none without). */
async function asNode(lab: LabState, ns: string, attempts: readonly Attempt[], credential?: string): Promise<Answer[]> {
  const url = controllerUrl(lab.topology);
  const r = await runIn({ name: ns }, process.execPath, [AS_NODE, url, ...(credential ? [credential] : [])], {
    input: JSON.stringify(attempts),
  });
  return JSON.parse(r.stdout) as Answer[];
}

async function adminGet(lab: string, path: string): Promise<unknown> {
  const r = await controlRequest<unknown>(lab, 'GET', path);
  assert.equal(r.status, 200, `the administrator reads ${path}`);
  return r.body;
}

/** The services the lab's controller mounts: those whose probe the administrator reads. */
async function mounted(lab: string): Promise<Trespass[]> {
  const found: Trespass[] = [];
  for (const t of TRESPASSES) if ((await controlRequest(lab, 'GET', t.probe)).status !== 404) found.push(t);
  return found;
}

/**
 * Every regular file under `dir` (recursively) but `except`, as latin1 text: one gone meanwhile is
 * left out, and so is what is mounted there (the eBPF kind's pinned programs and maps, on bpffs).
 */
function filesUnder(dir: string, except: ReadonlySet<string>): { file: string; text: string }[] {
  const found: { file: string; text: string }[] = [];
  const { dev } = lstatSync(dir);
  for (const f of readdirSync(dir, { recursive: true, encoding: 'utf8' })) {
    const file = join(dir, f);
    try {
      const st = lstatSync(file);
      if (!except.has(file) && st.isFile() && st.dev === dev) found.push({ file, text: readFileSync(file, 'latin1') });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
  }
  return found;
}

/** No token of the lab in a lab process's argv or environment, nor in a run-folder file but its own. */
function assertTokensHidden(lab: LabState, nodes: readonly string[]): void {
  const own = new Set([adminCredentialFile(lab.lab), ...nodes.map((n) => credentialFile(lab.lab, n))]);
  const tokens = [...own].map((f) => readFileSync(f, 'utf8').trim());
  const pids = pidsInNetns(labNamespaces(lab.lab));
  assert.ok(pids.length >= nodes.length, 'the lab’s processes are found');
  for (const pid of pids)
    for (const what of ['cmdline', 'environ']) {
      let text: string;
      try {
        text = readFileSync(`/proc/${pid}/${what}`, 'latin1');
      } catch {
        continue; // exited meanwhile
      }
      for (const tok of tokens) assert.ok(!text.includes(tok), `a token in /proc/${pid}/${what}`);
    }
  for (const { file, text } of filesUnder(runDir(lab.lab), own))
    for (const tok of tokens) assert.ok(!text.includes(tok), `a token in ${file}`);
}

/** The same request spelt otherwise: a doubled slash, the victim's name percent-encoded. */
function respelt(a: Attempt, victim: string): Attempt[] {
  const encoded = `%${victim.charCodeAt(0).toString(16)}${victim.slice(1)}`;
  return [
    { ...a, path: `/${a.path}` },
    ...(a.path.includes(victim) ? [{ ...a, path: a.path.replace(victim, encoded) }] : []),
  ];
}

async function checkTrespasses(lab: LabState, services: readonly Trespass[], nodes: readonly string[]): Promise<void> {
  for (const [i, caller] of nodes.entries()) {
    const victim = nodes[(i + 1) % nodes.length]!;
    const ns = nodeNetns(lab.lab, caller);
    for (const s of services) {
      const get = (path: string): Promise<unknown> => adminGet(lab.lab, path);
      const before = await s.owned(victim, get);
      const attempts = await s.attempts(victim, get, caller);
      const answers = await asNode(lab, ns, attempts, credentialFile(lab.lab, caller));
      for (const [j, a] of attempts.entries()) {
        const what = `${caller} → ${a.method} ${a.path} (${victim}'s)`;
        assert.equal(answers[j]!.status, a.expect ?? 403, `${what}: ${JSON.stringify(answers[j])}`);
        if ((a.expect ?? 403) === 403)
          assert.ok(answers[j]!.error?.includes(rowOf(a)?.rule ?? '\0'), `${what}: the 403 names the rule`);
      }
      const others = attempts.filter((a) => a.method !== 'GET').flatMap((a) => respelt(a, victim));
      for (const [j, r] of (await asNode(lab, ns, others, credentialFile(lab.lab, caller))).entries())
        assert.ok(r.status >= 400, `${caller} → ${others[j]!.method} ${others[j]!.path}: ${JSON.stringify(r)}`);
      const anonymous = await asNode(lab, ns, attempts);
      assert.deepEqual(
        anonymous.map((a) => a.status),
        attempts.map(() => 401),
        `${s.probe}: without a credential`,
      );
      assert.deepEqual(await s.owned(victim, get), before, `${caller} changed nothing of ${victim}'s (${s.probe})`);
    }
    // Nor did it re-issue or revoke the victim's credential: the victim's own requests still pass.
    const [own] = await asNode(
      lab,
      nodeNetns(lab.lab, victim),
      [{ method: 'GET', path: services[0]!.probe }],
      credentialFile(lab.lab, victim),
    );
    assert.equal(own!.status, 200, `${victim}'s credential after ${caller}'s attempts`);
  }
}

/** The table's routes a node may not call for another, under the prefixes of `services`, each attempted. */
async function checkCoverage(
  lab: LabState,
  services: readonly Trespass[],
  victim: string,
  self: string,
): Promise<void> {
  const get = (path: string): Promise<unknown> => adminGet(lab.lab, path);
  const tried = (await Promise.all(services.map((s) => s.attempts(victim, get, self)))).flat().map(rowOf);
  const prefixes = services.map((s) => `/${s.probe.split('/')[1]}`);
  const guarded = TABLE.filter((r) => r.who !== 'every node' && prefixes.some((p) => r.path.startsWith(p)));
  assert.ok(guarded.length > 0);
  for (const r of guarded) assert.ok(tried.includes(r), `no attempt tries ${r.method} ${r.path} (${r.who})`);
}

/** Node `gone` leaves: its token, read before, gets 401 from a node still in the lab. */
async function checkLeave(lab: LabState, gone: string, from: string, dir: string): Promise<void> {
  const saved = join(dir, 'gone.credential');
  writeCredential(saved, readFileSync(credentialFile(lab.lab, gone), 'utf8').trim());
  await leaveNode(lab.lab, gone);
  const ns = nodeNetns(lab.lab, from);
  const [leases] = await asNode(lab, ns, [{ method: 'GET', path: TRESPASSES[0]!.probe }], saved);
  assert.equal(leases!.status, 401, `${gone}'s credential after it left`);
  const [own] = await asNode(lab, ns, [{ method: 'GET', path: TRESPASSES[0]!.probe }], credentialFile(lab.lab, from));
  assert.notEqual(own!.status, 401, `${from}'s credential still works`);
}

/** The registry's first architecture of each kind whose control plane restarts a controller, as `name`. */
function oneOfEachKind(): string[] {
  const kinds = new Map<string, string>();
  for (const name of architectures.names()) {
    const c = architectures.get(name).control;
    if (c.restartable.includes('controller') && !kinds.has(c.kind)) kinds.set(c.kind, name);
  }
  return [...kinds.values()];
}

const features = probeFeatures();
for (const name of oneOfEachKind()) {
  const arch = architectures.get(name);
  test(`${name}: from each node, another's objects get 403 and stay; 401 without a credential; tokens hidden`, async (t) => {
    const missing = missingReason(await features, arch.requires);
    if (missing) return t.skip(missing);
    const lab = `t-auth-${arch.control.kind}`.slice(0, 12);
    const dir = mkdtempSync(join(tmpdir(), 'cnilab-auth-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    await withLab(lab, name, async (state) => {
      const nodes = state.topology.nodes.filter((n) => n.role === 'compute').map((n) => n.name);
      const services = await mounted(lab);
      assert.ok(services.length >= 2, 'a store and the credentials');
      await checkCoverage(state, services, nodes[1]!, nodes[0]!);
      await checkTrespasses(state, services, nodes);
      assertTokensHidden(state, nodes);
      if (typeof arch.control.membership === 'string') return t.diagnostic(`no leave: ${arch.control.membership}`);
      await checkLeave(state, nodes[1]!, nodes[0]!, dir);
    });
  });
}
