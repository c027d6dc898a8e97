/**
 * Benchmark: the Service hop from 1 to 30,000 Services, every proxy side by side (issue 32). One
 * lab per proxy (flannel-vxlan by default: 2 compute nodes, 2 pods each), all up together, then
 * the service-scale test's own measurement (src/run/service-scale/measure.ts) interleaved over
 * them: for each N ascending, the labs in a seeded order, each brought to N Services (the probed
 * one's rules last where order matters) and measured — first-packet latency over `--connections`
 * fresh connections, CRR, programming latency over `--changes` endpoint changes. Then the labs go
 * down. Targets (bench/service-targets.ts): iptables' first-packet p50 at the largest N ≥ 2× at 1;
 * nftables' within 1.2×; ebpf's p99 at the largest N ≤ nftables'; one change programmed at the
 * largest N within 100 ms (p99) for nftables and ebpf; each with a 95% bootstrap interval.
 *
 *   npm run build && flock /tmp/cnilab-itest.lock node dist/bench/service.js \
 *     [--proxies iptables,nftables,ebpf] [--counts 1,1000,10000,30000] [--connections 1000] \
 *     [--changes 30] [--arch flannel-vxlan] [--json]
 *
 * 30,000 Services in three labs at once: iptables-nft's load is quadratic (docs/services.md) —
 * expect most of the wall time there.
 */
import { architectures } from '../src/arch';
import type { Architecture } from '../src/arch/architecture';
import { probeFeatures, missingReason } from '../src/doctor/features';
import { down, up } from '../src/lab/lab';
import type { LabState } from '../src/lab/state';
import { proxyModes } from '../src/proxy';
import { serviceScaleTest } from '../src/run/service-scale';
import { serviceCounts } from '../src/run/service-scale/flags';
import { measureServiceScale } from '../src/run/service-scale/measure';
import { planServiceScale } from '../src/run/service-scale/plan';
import { serviceScaleLines } from '../src/run/service-scale/report';
import { serviceScaleSchema } from '../src/run/service-scale/schema';
import { parseTopology } from '../src/topology/load';
import { benchArgs, count, str } from './args';
import { SERVICE_TARGETS, serviceFigures } from './service-targets';
import { judge, targetLines } from './targets';

const opts = benchArgs(
  'node dist/bench/service.js [--proxies a,b] [--counts 1,1000,10000,30000] [--connections N] [--changes N] ' +
    '[--arch NAME] [--json]',
  {
    proxies: str('iptables,nftables,ebpf'),
    counts: str('1,1000,10000,30000'),
    connections: count(1000),
    changes: count(30),
    arch: str('flannel-vxlan'),
  },
);

const say = (s: string): void => void (opts.json || process.stderr.write(`${s}\n`));

const topology = (lab: string, proxy: string) =>
  parseTopology(
    `topology:
  defaults: {pods: 2}
  proxy: ${proxy}
  nodes:
    control: {role: control}
    node1: {role: compute}
    node2: {role: compute}
`,
    'bench',
    { name: lab },
  );

const labName = (proxy: string): string => `svc-bench-${proxy.slice(0, 4)}`;

/** Labs up now: Ctrl-C takes them down first. */
const labs = new Set<string>();
process.once('SIGINT', () => {
  void Promise.all([...labs].map((l) => down(l).catch(() => undefined))).finally(() => process.exit(130));
});

async function main(): Promise<void> {
  const t0 = performance.now();
  const started = new Date().toISOString();
  const counts = serviceCounts(opts.counts);
  const features = await probeFeatures();
  const proxies = opts.proxies.split(',').filter((p) => {
    const why = proxyModes.has(p) ? missingReason(features, proxyModes.get(p).requires) : 'no such proxy mode';
    if (why) say(`${p}: skipped: ${why}`);
    return !why;
  });
  const base = architectures.get(opts.arch);
  const archs: Architecture[] = proxies.map((proxy) => ({
    ...base,
    name: `${base.name}+${proxy}`,
    proxied: { base: base.name, proxy },
  }));
  const settings = { counts, connections: opts.connections, changes: opts.changes };
  const states: LabState[] = [];
  try {
    for (const proxy of proxies) {
      const lab = labName(proxy);
      say(`${lab}: up (${base.name}, ${proxy} proxy)`);
      await down(lab).catch(() => undefined);
      labs.add(lab);
      states.push(await up({ topology: topology(lab, proxy), arch: base.name, features }));
    }
    const { cells, skipped } = planServiceScale({ topology: states[0]!.topology, archs, features });
    for (const s of skipped) say(`${s.arch}: skipped: ${s.reason}`);
    const figures = await measureServiceScale(
      cells.map((cell) => {
        const state = states[proxies.indexOf(cell.proxy)]!;
        return { cell: { ...cell, lab: state.lab }, state };
      }),
      settings,
      { seed: 32, labNetns: () => new Set(), progress: say },
    );
    const json = serviceScaleSchema.parse(serviceScaleTest.record(settings, figures));
    const targets = judge(SERVICE_TARGETS, serviceFigures(json));
    const wallSec = (performance.now() - t0) / 1000;
    if (opts.json)
      return void process.stdout.write(
        JSON.stringify({ started, wallSec, arch: base.name, serviceScale: json, targets }, null, 2) + '\n',
      );
    process.stdout.write(
      [
        `service bench (${started}; ${base.name}; counts ${counts.join(',')}; ${opts.connections} connections, ` +
          `${opts.changes} changes per lab and N):`,
        ...serviceScaleLines(json),
        ...json.archs.flatMap((a) =>
          a.counts.map(
            (c) =>
              `  ${a.arch} at ${c.n}: created ${Math.round(c.createMs)} ms, synced ${Math.round(c.syncedMs)} ms; ` +
              `agents ${c.agents.map((g) => `${g.node} ${g.syncs} syncs ${Math.round(g.syncMs)} ms` + (g.rssKiB ? ` ${Math.round(g.rssKiB / 1024)} MiB` : '')).join(', ')}`,
          ),
        ),
        ...targetLines(targets),
        `wall time ${wallSec.toFixed(0)} s`,
      ].join('\n') + '\n',
    );
  } finally {
    for (const lab of [...labs]) {
      await down(lab);
      labs.delete(lab);
    }
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`bench: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
});
