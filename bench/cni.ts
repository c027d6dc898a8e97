/**
 * Benchmark: how fast a CNI ADD and DEL of bridge + host-local are, called as a container runtime
 * calls them (the executable, its environment, the configuration on stdin, in the node's
 * namespace), for the reference plugins (containernetworking-plugins, Go) and for each road cnilab
 * could take to start its plugins, side by side in one run:
 *   - shipped:  dist/cni-bin as built: one `bun build --compile` multi-call binary when
 *               scripts/setup.sh installed Bun (else the Node bundles);
 *   - node:     the plugins bundled one file each (dist/cni-bundles), under Node — the road before;
 *   - bun:      the same bundles under Bun, as scripts;
 *   - thin:     a Bun thin client to a per-node plugin server (bench/cni-thin.ts).
 * Every road runs the same TypeScript source, whose kernel work is netlink in-process. Pods are
 * attached in rounds of 25 per road, the roads taking turns (reversed every round) so the drift
 * of this noisy machine hits all alike; each round's pods are then deleted. Also measured: one
 * start of each (VERSION), ADD and DEL through `cnilab cni add|del` (the CLI, which adds Node's
 * start), and the kernel work of one bridge ADD done by `ip -batch` processes vs over netlink.
 *
 * Target: the shipped ADD p50 ≤ 1.5× the reference's (stretch: faster than it).
 * The benchmark runs inside a namespace of its own (it re-executes itself there with nsenter).
 *
 *   npm run bench:cni -- [--pods N] [--json]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { run } from '../src/lib/exec';
import { addNetns, ipBatch } from '../src/lib/netns';
import { kernelBatch } from '../src/lib/netlink/ip-lines';
import { CNI_BIN_DIR, REPO_ROOT } from '../src/lib/paths';
import { nodeNetns, podNetns, runDir } from '../src/lab/names';
import { teardownLab } from '../src/lab/teardown';
import { referencePlugins } from '../src/doctor/features';
import { percentile } from '../src/run/stats';
import { benchArgs, count, flag } from './args';
import { judge, targetLines, type Target } from './targets';
import { clientSource } from './cni-thin';

const LAB = 'bench-cni';
const HOST = nodeNetns(LAB, 'host');
const ROUND = 25;
const CLI = join(REPO_ROOT, 'dist/src/cli/main.js');
const opts = benchArgs('npm run bench:cni -- [--pods N] [--json]', { pods: count(100), inner: flag });
const WHY = "a pod's network set-up as a runtime calls it: cnilab's plugins against the reference's (docs/cni.md)";
const TARGETS: readonly Target[] = [
  {
    name: 'shipped ADD p50 / the reference plugins',
    figure: 'addP50Ratio',
    direction: 'at most',
    threshold: 1.5,
    unit: '×',
    why: WHY,
  },
  {
    name: 'shipped ADD p50 / the reference plugins',
    figure: 'addP50Ratio',
    direction: 'below',
    threshold: 1,
    unit: '×',
    why: WHY,
    stretch: true,
  },
];
const say = (s: string): void => void (opts.json || process.stderr.write(`${s}\n`));

interface Road {
  readonly key: string;
  readonly label: string;
  /** The directory holding its `bridge` and `host-local`. */
  readonly dir: string;
}

const stats = (xs: readonly number[]) => ({ p50: +percentile(xs, 50).toFixed(1), p99: +percentile(xs, 99).toFixed(1) });
interface RuntimeInfo {
  runtime: string;
  version: string;
  path: string;
  build: string;
}
const runtimeInfo = (): RuntimeInfo =>
  JSON.parse(readFileSync(join(CNI_BIN_DIR, '.runtime.json'), 'utf8')) as RuntimeInfo;

function bunPath(): string | undefined {
  try {
    return join(require.resolve('@oven/bun-linux-x64/package.json', { paths: [REPO_ROOT] }), '..', 'bin/bun');
  } catch {
    return undefined;
  }
}

const conf = (road: Road, i: number): string =>
  JSON.stringify({
    cniVersion: '1.0.0',
    name: `bench-${road.key}`,
    type: 'bridge',
    bridge: `b-${road.key}`,
    isGateway: true,
    ipam: { type: 'host-local', ranges: [[{ subnet: `10.${90 + i}.0.0/16` }]], dataDir: join(runDir(LAB), 'ipam') },
  });

/** One plugin call as a runtime makes it; its milliseconds. */
async function call(road: Road, i: number, command: string, ns: string, input = conf(road, i)): Promise<number> {
  const env = {
    PATH: process.env.PATH,
    CNI_COMMAND: command,
    CNI_CONTAINERID: `b-${ns.replace(/^.*\.pod\./, '')}`,
    CNI_NETNS: `/run/netns/${ns}`,
    CNI_IFNAME: 'eth0',
    CNI_PATH: road.dir,
  };
  const t0 = performance.now();
  const r = await run(join(road.dir, 'bridge'), [], { env, input, check: false });
  const ms = performance.now() - t0;
  if (r.code !== 0) throw new Error(`${road.label} ${command}: ${r.stdout.trim() || r.stderr.trim()}`);
  return ms;
}

/** The roads this machine can build, in their directories under the lab's run folder. */
async function buildRoads(): Promise<{ roads: Road[]; server?: ChildProcess }> {
  const base = join(runDir(LAB), 'roads');
  const shipped = runtimeInfo();
  const bundles = join(REPO_ROOT, 'dist/cni-bundles');
  const roads: Road[] = [
    { key: 'ref', label: 'reference v1.1.1 (Go)', dir: '/usr/lib/cni' },
    {
      key: 'ship',
      label: `cnilab shipped (${shipped.runtime === 'bun' ? 'Bun-compiled' : 'Node scripts'})`,
      dir: CNI_BIN_DIR,
    },
  ];
  if (shipped.runtime !== 'node') roads.push({ key: 'node', label: 'cnilab bundles on Node', dir: bundles });
  const bun = bunPath();
  if (!bun) return { roads };
  const script = join(base, 'bun-script');
  mkdirSync(script, { recursive: true });
  for (const p of ['bridge', 'host-local']) {
    const text = readFileSync(join(bundles, p), 'utf8').replace(/^#!.*\n/, '');
    writeFileSync(join(script, p), `#!${bun}\n${text}`, { mode: 0o755 });
  }
  roads.push({ key: 'bun', label: 'cnilab bundles on Bun', dir: script });

  const thin = join(base, 'thin');
  mkdirSync(thin, { recursive: true });
  const socket = join(runDir(LAB), 'plugin.sock');
  writeFileSync(join(thin, 'bridge'), clientSource(bun, socket), { mode: 0o755 });
  copyFileSync(join(bundles, 'host-local'), join(thin, 'host-local'));
  const server = spawn(process.execPath, [join(REPO_ROOT, 'dist/bench/cni-thin.js'), socket], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    createInterface({ input: server.stdout! }).once('line', () => resolve());
    server.once('exit', (code) => reject(new Error(`the plugin server exited (${code})`)));
  });
  roads.push({ key: 'thin', label: 'cnilab thin client + server', dir: thin });
  return { roads, server };
}

async function startCost(road: Road, n = 20): Promise<number> {
  const xs: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await run(join(road.dir, 'bridge'), [], {
      env: { PATH: process.env.PATH, CNI_COMMAND: 'VERSION' },
      input: '{"cniVersion":"1.0.0"}',
    });
    xs.push(performance.now() - t0);
  }
  return +percentile(xs, 50).toFixed(1);
}

/** ADD and DEL through `cnilab cni add|del NETWORK NETNS` (cnitool's interface), n pods. */
async function throughCli(road: Road, i: number, n: number): Promise<{ add: number[]; del: number[] }> {
  const confDir = join(runDir(LAB), `netconf-${road.key}`);
  mkdirSync(confDir, { recursive: true });
  writeFileSync(join(confDir, '10-bench.conf'), conf(road, i));
  const env = { PATH: process.env.PATH, NETCONFPATH: confDir, CNI_PATH: road.dir };
  const out = { add: [] as number[], del: [] as number[] };
  for (let k = 0; k < n; k++) {
    const ns = podNetns(LAB, `cli${road.key}${k}`);
    await addNetns(ns);
    for (const [cmd, xs] of [
      ['add', out.add],
      ['del', out.del],
    ] as const) {
      const t0 = performance.now();
      await run(process.execPath, [CLI, 'cni', cmd, `bench-${road.key}`, `/run/netns/${ns}`], { env });
      xs.push(performance.now() - t0);
    }
    await run('ip', ['netns', 'delete', ns]);
  }
  return out;
}

/** The kernel work of one bridge ADD (host side, container side), by `ip -batch` processes and over netlink. */
async function kernelWork(n: number): Promise<{ ipBatch: number; netlink: number }> {
  await kernelBatch(undefined, [['link', 'add', 'name', 'b-kw', 'type', 'bridge']]);
  const one = (k: number, ns: string): { host: string[][]; pod: string[][] } => ({
    host: [
      `link add name kw${k} mtu 1500 type veth peer name eth0 mtu 1500 netns ${ns}`.split(' '),
      ['link', 'set', 'dev', `kw${k}`, 'alias', `cni:kw:${k}:eth0`, 'master', 'b-kw'],
      ['link', 'set', 'dev', `kw${k}`, 'up'],
    ],
    pod: [
      ['addr', 'add', `10.99.${k >> 8}.${k & 255}/16`, 'dev', 'eth0'],
      ['link', 'set', 'dev', 'eth0', 'up'],
      ['route', 'add', 'default', 'via', '10.99.255.254', 'dev', 'eth0'],
    ],
  });
  const times = { ipBatch: [] as number[], netlink: [] as number[] };
  for (let k = 0; k < 2 * n; k++) {
    const ns = podNetns(LAB, `kw${k}`);
    await addNetns(ns);
    const { host, pod } = one(k, ns);
    const way = k % 2 === 0 ? 'ipBatch' : 'netlink';
    const t0 = performance.now();
    if (way === 'ipBatch') {
      await ipBatch(undefined, host);
      await ipBatch({ name: ns }, pod);
    } else {
      await kernelBatch(undefined, host);
      await kernelBatch({ name: ns }, pod);
    }
    times[way].push(performance.now() - t0);
    await run('ip', ['netns', 'delete', ns]);
  }
  return { ipBatch: +percentile(times.ipBatch, 50).toFixed(2), netlink: +percentile(times.netlink, 50).toFixed(2) };
}

async function inner(pods: number): Promise<void> {
  const ref = await referencePlugins();
  if (!ref.ok) throw new Error(ref.detail);
  const started = performance.now();
  const { roads, server } = await buildRoads();
  try {
    const add: Record<string, number[]> = Object.fromEntries(roads.map((r) => [r.key, []]));
    const del: Record<string, number[]> = Object.fromEntries(roads.map((r) => [r.key, []]));
    for (let round = 0; round < pods / ROUND; round++) {
      const order = round % 2 === 0 ? roads : [...roads].reverse();
      for (const road of order) {
        const i = roads.indexOf(road);
        const names = Array.from({ length: ROUND }, (_, k) => podNetns(LAB, `${road.key}${round * ROUND + k}`));
        await run('ip', ['-batch', '-'], { input: names.map((n) => `netns add ${n}`).join('\n') + '\n' });
        for (const ns of names) add[road.key]!.push(await call(road, i, 'ADD', ns));
        for (const ns of names) del[road.key]!.push(await call(road, i, 'DEL', ns));
        await run('ip', ['-batch', '-'], { input: names.map((n) => `netns delete ${n}`).join('\n') + '\n' });
      }
      say(`round ${round + 1}/${pods / ROUND} done (${((performance.now() - started) / 1000).toFixed(0)} s)`);
    }
    const starts: Record<string, number> = {};
    for (const r of roads) starts[r.key] = await startCost(r); // one at a time: they share 2 cores
    say('through the CLI…');
    const cli = { ref: await throughCli(roads[0]!, 0, 20), ship: await throughCli(roads[1]!, 1, 20) };
    say('kernel work: ip -batch vs netlink…');
    const kernel = await kernelWork(30);

    const rows = roads.map((r) => ({
      road: r.key,
      implementation: r.label,
      pods,
      addMs: stats(add[r.key]!),
      delMs: stats(del[r.key]!),
      versionMs: starts[r.key]!,
      addP50VsReference: +(percentile(add[r.key]!, 50) / percentile(add.ref!, 50)).toFixed(2),
    }));
    const ship = rows[1]!;
    const out = {
      runtime: runtimeInfo(),
      rows,
      cli: {
        reference: { addMs: stats(cli.ref.add), delMs: stats(cli.ref.del) },
        cnilab: { addMs: stats(cli.ship.add), delMs: stats(cli.ship.del) },
      },
      kernelWorkP50Ms: kernel,
      addP50Ratio: ship.addP50VsReference,
      targets: judge(TARGETS, { addP50Ratio: ship.addP50VsReference }),
      seconds: Math.round((performance.now() - started) / 1000),
    };
    if (opts.json) {
      process.stdout.write(JSON.stringify(out, null, 2) + '\n');
      return;
    }
    const line = (cells: (string | number)[]) =>
      cells.map((c, i) => (i === 0 ? String(c).padEnd(30) : String(c).padStart(9))).join('');
    console.log(`CNI ADD/DEL of bridge + host-local, called directly as a runtime does, ${pods} pods per road (ms)`);
    console.log(line(['road', 'ADD p50', 'ADD p99', 'DEL p50', 'DEL p99', 'VERSION', '× ref']));
    for (const r of rows)
      console.log(
        line([r.implementation, r.addMs.p50, r.addMs.p99, r.delMs.p50, r.delMs.p99, r.versionMs, r.addP50VsReference]),
      );
    console.log(
      `through cnilab cni add|del (20 pods): reference ADD p50 ${out.cli.reference.addMs.p50}, ` +
        `cnilab ${out.cli.cnilab.addMs.p50}; DEL p50 ${out.cli.reference.delMs.p50} vs ${out.cli.cnilab.delMs.p50}`,
    );
    console.log(
      `kernel work of one bridge ADD, p50: ` +
        `ip -batch (2 processes) ${kernel.ipBatch} ms, ` +
        `netlink in-process ${kernel.netlink} ms`,
    );
    console.log(`shipped: ${out.runtime.runtime} ${out.runtime.version}`);
    console.log(targetLines(out.targets).join('\n'));
    console.log(`took ${out.seconds} s`);
  } finally {
    if (server?.pid) {
      server.kill('SIGTERM');
      await new Promise((r) => server.once('exit', r));
    }
  }
}

async function main(): Promise<void> {
  const { pods } = opts;
  if (!Number.isInteger(pods) || pods < ROUND || pods % ROUND !== 0)
    throw new Error(`--pods: must be a multiple of ${ROUND}`);
  if (opts.inner) return inner(pods);
  await teardownLab(LAB);
  await addNetns(HOST);
  try {
    const child = spawn(
      'nsenter',
      [`--net=/run/netns/${HOST}`, '--', process.execPath, __filename, '--inner', ...process.argv.slice(2)],
      { stdio: 'inherit' },
    );
    const stop = (): void => void child.kill('SIGTERM');
    process.once('SIGINT', stop);
    const code = await new Promise<number | null>((r) => child.once('exit', r));
    if (code !== 0) process.exitCode = 1;
  } finally {
    await teardownLab(LAB);
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`bench:cni: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
});
