/** What every root/namespace test needs: the CLI, and proof that nothing was left behind. */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { run, isAlive, sleep, stopPid } from '../../src/lib/exec';
import { listNamedNetns } from '../../src/lib/netns';
import { labOfNetns, runDir } from '../../src/lab/names';
import { down, up } from '../../src/lab/lab';
import { readState, type LabState } from '../../src/lab/state';
import { teardownLab } from '../../src/lab/teardown';
import { parseTopology } from '../../src/topology/load';
import { REPO_ROOT } from '../../src/lib/paths';

export const CLI = join(REPO_ROOT, 'dist/src/cli/main.js');

export interface RootSnapshot {
  readonly links: string[];
  readonly addrs: string[];
  readonly routes: string[];
}

/** The root namespace's links, addresses and routes, reduced to what must never change. */
export async function rootSnapshot(): Promise<RootSnapshot> {
  const j = async <T>(args: string[]): Promise<T[]> => JSON.parse((await run('ip', ['-json', ...args])).stdout || '[]') as T[];
  const links = (await j<{ ifname: string; link_type: string }>(['link', 'show'])).map((l) => `${l.ifname} ${l.link_type}`).sort();
  const addrs = (await j<{ ifname: string; addr_info: { local: string; prefixlen: number }[] }>(['addr', 'show'])).flatMap((l) => l.addr_info.map((a) => `${l.ifname} ${a.local}/${a.prefixlen}`)).sort();
  const routes = (await j<{ dst: string; dev?: string; gateway?: string; table?: string }>(['route', 'show', 'table', 'all'])).map((r) => `${r.table ?? 'main'} ${r.dst} ${r.gateway ?? ''} ${r.dev ?? ''}`).sort();
  return { links, addrs, routes };
}

/** Nothing of the lab is left: namespaces, run folder, the given processes; the root namespace is as it was. */
export async function assertNothingLeft(lab: string, before: RootSnapshot, pids: readonly number[] = []): Promise<void> {
  assert.deepEqual(listNamedNetns().filter((ns) => labOfNetns(ns) === lab), [], `namespaces of lab ${lab} left`);
  assert.equal(existsSync(runDir(lab)), false, `run folder of lab ${lab} left`);
  for (const pid of pids) assert.equal(isAlive(pid), false, `process ${pid} left running`);
  assert.deepEqual(await rootSnapshot(), before, 'the root namespace changed');
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
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, CI: 'true' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c));
    child.stderr.on('data', (c: Buffer) => (stderr += c));
    if (onStart && child.pid) onStart(child.pid);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** Waits until `check` is true (polling every `everyMs`), or fails after `ms`. */
export async function waitFor(what: string, check: () => boolean, ms = 20_000, everyMs = 20): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/**
 * Brings lab `name` up with `arch` (topology YAML, default: 2 compute nodes with 2 pods each), runs
 * `fn`, takes the lab down — also when `fn` fails — and asserts nothing of it is left: no
 * namespace, file or process (every one the lab ever recorded), the root namespace unchanged.
 */
export async function withLab(name: string, arch: string, fn: (state: LabState) => Promise<void>, topologyYaml = 'topology: {computeNodes: 2}'): Promise<void> {
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
export async function transfer(from: LabState['pods'][number], to: LabState['pods'][number], mbytes: number): Promise<void> {
  const server = spawn('ip', ['netns', 'exec', to.netns, process.execPath, XFER, 'server', to.ip, '7001'], { stdio: ['ignore', 'pipe', 'ignore'] });
  let got = '';
  server.stdout.on('data', (d: Buffer) => (got += d));
  const ended = new Promise<void>((r) => server.on('close', () => r()));
  try {
    await sleep(300);
    const sent = JSON.parse((await run('ip', ['netns', 'exec', from.netns, process.execPath, XFER, 'client', to.ip, '7001', String(mbytes)], { timeoutMs: 60_000 })).stdout) as { bytes: number; sha256: string };
    await Promise.race([ended, sleep(10_000)]);
    const received = JSON.parse(got) as { bytes: number; sha256: string };
    assert.equal(sent.bytes, mbytes << 20);
    assert.deepEqual(received, sent, 'the receiver hashed exactly the bytes sent');
  } finally {
    if (server.pid) await stopPid(server.pid);
  }
}
