/**
 * Benchmark: CNI ADD and DEL latency of cnilab's `bridge` + `host-local` against the reference
 * plugins (containernetworking-plugins, /usr/lib/cni), measured side by side in one run.
 *
 * Each implementation gets its own host namespace and N pods (default 200). Pods are attached in
 * rounds of 50, one ADD after another, the implementations taking turns round by round (so drift
 * of this noisy machine hits both alike); then each round's pods are deleted one DEL after
 * another. Both are driven by cnilab's runtime with this process's environment. A third row runs
 * cnilab's bridge with its IPAM executed as a separate process (a copy of host-local outside
 * cnilab's plugin directory), to show what running our own IPAM in-process saves.
 *
 * Target: cnilab's ADD p50 within 2× the reference's. Also printed, for scale: one start of each
 * runtime alone (`node -e 0` with the plugins' environment; the reference bridge answering VERSION).
 *
 *   npm run bench:cni -- [--pods N] [--json]
 */
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { CniRuntime } from '../src/cni/runtime';
import type { NetConfList } from '../src/cni/types';
import { run } from '../src/lib/exec';
import { addNetns } from '../src/lib/netns';
import { CNI_BIN_DIR } from '../src/lib/paths';
import { nodeNetns, podNetns, runDir } from '../src/lab/names';
import { teardownLab } from '../src/lab/teardown';
import { referencePlugins } from '../src/doctor/features';
import { arg, pct, wantJson } from './common';

const LAB = 'bench-cni';
const ROUND = 50;
const TARGET = 2;

interface Impl {
  readonly key: string;
  readonly label: string;
  /** Directories, ':'-separated. */
  readonly cniPath: string;
}

const stats = (xs: readonly number[]) => ({ p50: +pct(xs, 50).toFixed(1), p99: +pct(xs, 99).toFixed(1) });

/** ms per start, median of `n` runs of argv inside the namespace (as the runtime starts a plugin). */
async function startCost(ns: string, argv: string[], env: NodeJS.ProcessEnv, input: string, n = 20): Promise<number> {
  const xs: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await run('ip', ['netns', 'exec', ns, ...argv], { env, input, check: false });
    xs.push(performance.now() - t0);
  }
  return +pct(xs, 50).toFixed(1);
}

// eslint-disable-next-line max-lines-per-function -- a benchmark's procedure, measured and printed in the order it runs
async function main(): Promise<void> {
  const pods = arg('pods', 200);
  if (!Number.isInteger(pods) || pods < ROUND || pods % ROUND !== 0)
    throw new Error(`--pods: must be a multiple of ${ROUND}`);
  const ref = await referencePlugins();
  if (!ref.ok) throw new Error(ref.detail);
  await teardownLab(LAB);
  const execDir = join(runDir(LAB), 'ipam-exec');
  mkdirSync(execDir, { recursive: true });
  // Found first on CNI_PATH, outside cnilab's plugin directory: our bridge executes it.
  copyFileSync(join(CNI_BIN_DIR, 'host-local'), join(execDir, 'host-local'));
  await run('chmod', ['+x', join(execDir, 'host-local')]);
  const impls: Impl[] = [
    { key: 'ours', label: 'cnilab', cniPath: CNI_BIN_DIR },
    { key: 'ref', label: 'reference v1.1.1', cniPath: '/usr/lib/cni' },
    { key: 'exec', label: 'cnilab, IPAM executed', cniPath: `${execDir}:${CNI_BIN_DIR}` },
  ];
  const add: Record<string, number[]> = {};
  const del: Record<string, number[]> = {};
  const started = performance.now();
  try {
    const runtimes = new Map<string, CniRuntime>();
    for (const impl of impls) {
      await addNetns(nodeNetns(LAB, impl.key));
      runtimes.set(
        impl.key,
        new CniRuntime({
          cniPath: impl.cniPath.split(':'),
          cacheDir: join(runDir(LAB), impl.key, 'cache'),
          hostNetns: { name: nodeNetns(LAB, impl.key) },
        }),
      );
      add[impl.key] = [];
      del[impl.key] = [];
    }
    const list = (impl: Impl): NetConfList => ({
      cniVersion: '1.0.0',
      name: 'bench',
      plugins: [
        {
          type: 'bridge',
          bridge: 'cni0',
          isGateway: true,
          ipam: {
            type: 'host-local',
            ranges: [[{ subnet: '10.88.0.0/16' }]],
            dataDir: join(runDir(LAB), impl.key, 'ipam'),
          },
        },
      ],
    });
    for (let round = 0; round < pods / ROUND; round++) {
      const order = round % 2 === 0 ? impls : [...impls].reverse();
      for (const impl of order) {
        const names = Array.from({ length: ROUND }, (_, i) => podNetns(LAB, `${impl.key}${round * ROUND + i}`));
        await run('ip', ['-batch', '-'], { input: names.map((n) => `netns add ${n}`).join('\n') + '\n' });
        const rt = runtimes.get(impl.key)!;
        const conf = (ns: string) => ({
          containerId: ns.replace(/^.*\.pod\./, 'b-'),
          netns: `/run/netns/${ns}`,
          ifName: 'eth0',
        });
        for (const ns of names) {
          const t0 = performance.now();
          await rt.addNetworkList(list(impl), conf(ns));
          add[impl.key]!.push(performance.now() - t0);
        }
        for (const ns of names) {
          const t0 = performance.now();
          await rt.delNetworkList(list(impl), conf(ns));
          del[impl.key]!.push(performance.now() - t0);
        }
        await run('ip', ['-batch', '-'], { input: names.map((n) => `netns delete ${n}`).join('\n') + '\n' });
        if (!wantJson)
          process.stderr.write(
            `round ${round + 1}/${pods / ROUND}: ${impl.label} done (${((performance.now() - started) / 1000).toFixed(0)} s)\n`,
          );
      }
    }
    const host = nodeNetns(LAB, 'ours');
    const nodeStart = await startCost(host, [process.execPath, '-e', '0'], { PATH: process.env.PATH }, '');
    const goStart = await startCost(
      host,
      ['/usr/lib/cni/bridge'],
      { PATH: process.env.PATH, CNI_COMMAND: 'VERSION' },
      '{"cniVersion":"1.0.0"}',
    );
    const ourStart = await startCost(
      host,
      [join(CNI_BIN_DIR, 'bridge')],
      { ...process.env, CNI_COMMAND: 'VERSION' },
      '{"cniVersion":"1.0.0"}',
    );

    const rows = impls.map((impl) => ({
      implementation: impl.label,
      pods,
      addMs: stats(add[impl.key]!),
      delMs: stats(del[impl.key]!),
    }));
    const ratio = +(rows[0]!.addMs.p50 / rows[1]!.addMs.p50).toFixed(2);
    const delRatio = +(rows[0]!.delMs.p50 / rows[1]!.delMs.p50).toFixed(2);
    const out = {
      rows,
      startMs: { nodeAlone: nodeStart, cnilabBridgeVersion: ourStart, referenceBridgeVersion: goStart },
      addP50Ratio: ratio,
      delP50Ratio: delRatio,
      target: `cnilab ADD p50 ≤ ${TARGET}× the reference's`,
      met: ratio <= TARGET,
      seconds: Math.round((performance.now() - started) / 1000),
    };
    if (wantJson) {
      process.stdout.write(JSON.stringify(out, null, 2) + '\n');
      return;
    }
    const line = (cells: (string | number)[]) =>
      cells.map((c, i) => (i === 0 ? String(c).padEnd(24) : String(c).padStart(10))).join('');
    console.log(`CNI ADD/DEL latency, bridge + host-local, ${pods} pods each, one after another (ms)`);
    console.log(line(['implementation', 'ADD p50', 'ADD p99', 'DEL p50', 'DEL p99']));
    for (const r of rows) console.log(line([r.implementation, r.addMs.p50, r.addMs.p99, r.delMs.p50, r.delMs.p99]));
    console.log(
      `one start, p50 of 20 (ms): node -e 0 ${nodeStart}; cnilab bridge VERSION ${ourStart}; reference bridge VERSION ${goStart}`,
    );
    console.log(
      `ADD p50 cnilab / reference: ${ratio}× (target ≤ ${TARGET}×: ${out.met ? 'met' : 'MISSED'}); DEL p50: ${delRatio}×`,
    );
    console.log(
      `in-process IPAM saves ${(rows[2]!.addMs.p50 - rows[0]!.addMs.p50).toFixed(1)} ms of ADD p50 (${rows[2]!.addMs.p50} → ${rows[0]!.addMs.p50})`,
    );
    console.log(`took ${out.seconds} s`);
  } finally {
    await teardownLab(LAB);
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`bench:cni: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
});
