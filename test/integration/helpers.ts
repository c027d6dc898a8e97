/** What every root/namespace test needs: the CLI, and proof that nothing was left behind. */
import { mountsUnder } from '../../src/lib/mounts';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { run, isAlive, sleep, stopPid } from '../../src/lib/exec';
import { addNetns, ipBatch, ipJson, listNamedNetns } from '../../src/lib/netns';
import { labOfNetns, RUN_ROOT, runDir } from '../../src/lab/names';
import { down, up } from '../../src/lab/lab';
import { readState, type LabState } from '../../src/lab/state';
import { allLabs, teardownLab } from '../../src/lab/teardown';
import { parseTopology } from '../../src/topology/load';
import { REPO_ROOT } from '../../src/lib/paths';
import { diffSnapshots, snapshotNetns, type NetnsSnapshot } from '../netns-snapshot';

export const CLI = join(REPO_ROOT, 'dist/src/cli/main.js');

export type RootSnapshot = NetnsSnapshot;

/** The links, addresses and routes of the namespace the tests run in (npm test: a fresh one; see scripts/test.js). */
export async function rootSnapshot(): Promise<RootSnapshot> {
  return snapshotNetns();
}

/** Nothing of the lab is left: namespaces, run folder, the given processes; the root namespace is as it was. */
/**
 * The fallback tunnel devices a kernel makes in every new namespace once their module is loaded
 * (ipip's tunl0 — a calico-ipip lab loads it —, gre's, sit's, …): no plugin's or lab's doing.
 */
const FALLBACK_TUNNELS = new Set([
  'tunl0',
  'gre0',
  'gretap0',
  'erspan0',
  'sit0',
  'ip6tnl0',
  'ip6gre0',
  'ip_vti0',
  'ip6_vti0',
]);

/** The links of namespace `ns` by name, the kernel's fallback tunnel devices left out. */
export async function linkNames(ns: string): Promise<string[]> {
  return (await ipJson<{ ifname: string }[]>({ name: ns }, ['link', 'show']))
    .map((l) => l.ifname)
    .filter((n) => !FALLBACK_TUNNELS.has(n));
}

/**
 * A run's --out folder, the one users publish, holds no secret: no credential file and no token
 * (lib/credential.ts's are prefixed cnilab1_) in any file.
 */
export function assertNoSecret(out: string): void {
  const files = readdirSync(out, { recursive: true, encoding: 'utf8' });
  assert.ok(files.length > 0, `${out} holds the run's files`);
  for (const f of files) {
    assert.doesNotMatch(f, /credential/, `${out}: ${f} is a credential's file`);
    const path = join(out, f);
    if (statSync(path).isFile()) assert.ok(!readFileSync(path, 'latin1').includes('cnilab1_'), `a token in ${path}`);
  }
}

export async function assertNothingLeft(
  lab: string,
  before: RootSnapshot,
  pids: readonly number[] = [],
): Promise<void> {
  // A run names its labs `<lab>-<architecture>`: those count as the lab's too.
  const ours = (l: string | undefined): boolean => l === lab || (l ?? '').startsWith(`${lab}-`);
  assert.deepEqual(
    listNamedNetns().filter((ns) => ours(labOfNetns(ns))),
    [],
    `namespaces of lab ${lab} left`,
  );
  assert.equal(existsSync(runDir(lab)), false, `run folder of lab ${lab} left`);
  assert.deepEqual(
    existsSync(RUN_ROOT) ? readdirSync(RUN_ROOT).filter(ours) : [],
    [],
    `run folders of lab ${lab} left`,
  );
  assert.deepEqual(
    mountsUnder(RUN_ROOT).filter((m) => ours(m.path.slice(RUN_ROOT.length + 1).split('/')[0])),
    [],
    `mounts of lab ${lab} left (its bpffs)`,
  );
  for (const pid of pids) assert.equal(isAlive(pid), false, `process ${pid} left running`);
  const changed = diffSnapshots(before, await rootSnapshot());
  assert.deepEqual(changed, [], `the namespace the tests run in changed: ${changed.join('; ')}`);
}

/**
 * A "host" namespace for plugin tests: `up0`, a veth whose peer `up1` stays beside it, both up, so
 * the master of a macvlan, vlan or ipvlan has a carrier (IPv6 addresses on it finish duplicate
 * address detection; the reference plugins wait for that).
 */
export async function addHostWithMaster(ns: string): Promise<void> {
  await addNetns(ns);
  await ipBatch({ name: ns }, [
    ['link', 'add', 'up0', 'mtu', '1500', 'type', 'veth', 'peer', 'name', 'up1'],
    ['link', 'set', 'up0', 'up'],
    ['link', 'set', 'up1', 'up'],
  ]);
}

export interface CliResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the cnilab CLI; `onStart` may signal it while it runs. */
export function cli(args: readonly string[], onStart?: (pid: number) => void): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { ...process.env, CI: 'true' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c));
    child.stderr.on('data', (c: Buffer) => (stderr += c));
    if (onStart && child.pid) onStart(child.pid);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** A `cnilab run` of runInTemp: what the CLI said, its --out folder, and the namespace as it was before. */
export interface TempRun {
  readonly r: CliResult;
  readonly out: string;
  readonly root: RootSnapshot;
}

/**
 * `cnilab run --lab LAB ARGS --out OUT`, OUT in a temporary folder removed after test `t`. The labs an earlier run of
 * LAB left (`LAB`, `LAB-<architecture>…`: one killed mid-run) are torn down first; `root` is taken after that, for
 * assertNothingLeft(lab, root).
 */
export async function runInTemp(t: TestContext, lab: string, args: readonly string[]): Promise<TempRun> {
  const dir = mkdtempSync(join(tmpdir(), `cnilab-${lab}-`));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  for (const l of allLabs().filter((x) => x === lab || x.startsWith(`${lab}-`))) await teardownLab(l);
  const out = join(dir, 'run');
  const root = await rootSnapshot();
  const r = await cli(['run', '--lab', lab, ...args, '--out', out]);
  return { r, out, root };
}

/**
 * How much longer than on a host a wait may take: the kernel tier's VM emulates its CPU in
 * software, 15–60× slower (a Node start ≈ 1 s), so every waitFor and waitUntil allows 5× there.
 */
export const WAIT_SCALE = process.env.CNILAB_KERNEL_TIER === '1' ? 5 : 1;

/** Waits until `check` is true (polling every `everyMs`), or fails after `ms` (× WAIT_SCALE). */
export async function waitFor(what: string, check: () => boolean, ms = 20_000, everyMs = 20): Promise<void> {
  const deadline = Date.now() + ms * WAIT_SCALE;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/**
 * Waits until `check` resolves true (asked every `everyMs`), or fails after `ms` (× WAIT_SCALE): the async form of
 * waitFor.
 */
export async function waitUntil(what: string, check: () => Promise<boolean>, ms = 20_000, everyMs = 20): Promise<void> {
  const deadline = Date.now() + ms * WAIT_SCALE;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** The sockets of namespace `ns` that `ss` lists with `filter` (e.g. ['-ltn', 'sport = :5201']). */
async function sockets(ns: string, filter: readonly string[]): Promise<string[]> {
  return (await run('ip', ['netns', 'exec', ns, 'ss', '-H', ...filter])).stdout.split('\n').filter(Boolean);
}

/**
 * Resolves once a server in namespace `ns` listens on TCP `port` (or has bound UDP `port`): what a client waits for,
 * rather than a time.
 */
export function untilListening(ns: string, port: number, proto: 'tcp' | 'udp' = 'tcp'): Promise<void> {
  return waitUntil(
    `a ${proto} server on port ${port} in ${ns}`,
    async () => (await sockets(ns, [proto === 'tcp' ? '-ltn' : '-lun', `sport = :${port}`])).length > 0,
  );
}

/** Resolves once namespace `ns` holds `count` established TCP connections to port `port`. */
export function untilConnected(ns: string, port: number, count: number): Promise<void> {
  return waitUntil(
    `${count} connections to port ${port} from ${ns}`,
    async () => (await sockets(ns, ['-tn', 'state', 'established', `dport = :${port}`])).length >= count,
  );
}

/**
 * Brings lab `name` up with `arch` (topology YAML, default: 2 compute nodes with 2 pods each), runs
 * `fn`, takes the lab down — also when `fn` fails — and asserts nothing of it is left: no
 * namespace, file or process (every one the lab ever recorded), the root namespace unchanged.
 */
export async function withLab(
  name: string,
  arch: string,
  fn: (state: LabState) => Promise<void>,
  topologyYaml = 'topology: {computeNodes: 2}',
): Promise<void> {
  const root = await rootSnapshot();
  await teardownLab(name);
  const state = await up({ topology: parseTopology(topologyYaml, 'test', { name }), arch });
  const pids = new Set(state.processes.map((p) => p.pid));
  try {
    await fn(state);
  } finally {
    for (const p of readState(name)?.processes ?? []) pids.add(p.pid);
    await down(name);
  }
  await assertNothingLeft(name, root, [...pids]);
}

const XFER = join(__dirname, 'xfer.js');

/** Sends `mbytes` MB from one pod to another over TCP; asserts both ends hashed the same bytes. */
export async function transfer(
  from: LabState['pods'][number],
  to: LabState['pods'][number],
  mbytes: number,
): Promise<void> {
  const server = spawn('ip', ['netns', 'exec', to.netns, process.execPath, XFER, 'server', to.ip, '7001'], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  let got = '';
  server.stdout.on('data', (d: Buffer) => (got += d));
  const ended = new Promise<void>((r) => server.on('close', () => r()));
  try {
    await untilListening(to.netns, 7001);
    const sent = JSON.parse(
      (
        await run(
          'ip',
          ['netns', 'exec', from.netns, process.execPath, XFER, 'client', to.ip, '7001', String(mbytes)],
          { timeoutMs: 60_000 },
        )
      ).stdout,
    ) as { bytes: number; sha256: string };
    await Promise.race([ended, sleep(10_000)]);
    const received = JSON.parse(got) as { bytes: number; sha256: string };
    assert.equal(sent.bytes, mbytes << 20);
    assert.deepEqual(received, sent, 'the receiver hashed exactly the bytes sent');
  } finally {
    if (server.pid) await stopPid(server.pid);
  }
}

/** The UDP echo probe (probe.ts): a server, and a client that sends every 10 ms and reports the longest silence. */
export const PROBE = join(__dirname, 'probe.js');

/**
 * UDP echoes every 10 ms from one namespace to a pod for `seconds`, `during` running once the echoes
 * come back; the longest time without an answer, and the echoes sent and answered. Asserts that
 * more than a third were answered (a data path that never came back).
 */
export async function longestGap(
  from: string,
  to: { netns: string; ip: string },
  seconds: number,
  during: () => Promise<void>,
): Promise<{ gapMs: number; received: number; sent: number }> {
  const server = spawn('ip', ['netns', 'exec', to.netns, process.execPath, PROBE, 'server', to.ip, '7777'], {
    stdio: 'ignore',
  });
  try {
    await untilListening(to.netns, 7777, 'udp');
    const client = spawn(
      'ip',
      ['netns', 'exec', from, process.execPath, PROBE, 'client', to.ip, '7777', String(seconds)],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    client.stdout.on('data', (d: Buffer) => (out += d));
    client.stderr.on('data', (d: Buffer) => (err += d));
    const ended = new Promise<void>((resolve) => client.on('close', () => resolve()));
    await waitFor("the probe's first answer", () => err.includes('answered'), 10_000);
    await during();
    await ended;
    const r = JSON.parse(out) as { gapMs: number; received: number; sent: number };
    assert.ok(r.received > r.sent / 3, `the probe got answers: ${JSON.stringify(r)}`);
    return r;
  } finally {
    if (server.pid) await stopPid(server.pid);
  }
}

/**
 * A crash, then `down --all`: the CLI builds `lab` with `arch` and is gone, leaving its namespaces
 * and processes; `crashed` runs on them (to kill a process, to look at what is left); then `cnilab
 * down --all` must name the lab and leave nothing of it. Skipped when other labs are up on this
 * machine: named namespaces and /run/cnilab are the machine's, and down --all would remove a
 * user's labs.
 */
export async function crashThenDownAll(
  t: { skip: (why: string) => void },
  lab: string,
  arch: string,
  crashed: () => Promise<void> = async () => undefined,
): Promise<void> {
  const others = allLabs().filter((l) => l !== lab);
  if (others.length > 0)
    return t.skip(`other labs are up on this machine (${others.join(', ')}): down --all would remove them`);
  const root = await rootSnapshot();
  await teardownLab(lab);
  const u = await cli(['up', '--lab', lab, '--arch', arch]);
  assert.equal(u.code, 0, u.stderr);
  await crashed();
  const d = await cli(['down', '--all', '--json']);
  assert.equal(d.code, 0, d.stderr);
  assert.ok(
    (JSON.parse(d.stdout) as { lab: string }[]).some((x) => x.lab === lab),
    'down --all named the lab',
  );
  await assertNothingLeft(lab, root);
}
