/**
 * Benchmark: NetworkPolicy enforced correctly, then what it costs from 0 to 10,000 rules (issue 33),
 * in one run. Two labs up together — calico-bgp (iptables and nftables designs) and ebpf-native
 * (the eBPF design) — then:
 *   (a) correctness: the policy catalogue (src/lab/policy-catalogue.ts) run through every design —
 *       calico-bgp switched from one design to the other — its probe matrices against the oracle,
 *       the differences per design;
 *   (b) cost: the policy-scale test's own measurement (src/run/policy-scale/measure.ts) over both
 *       labs, interleaved, at each N of `--rules`.
 * Then the labs go down. Targets (bench/policy-targets.ts), judged as data: 0 differences per
 * design; the eBPF design's CRR at the most rules within 10% of at 0 (a ratio with its 95%
 * bootstrap interval); realization p99 ≤ 1 s at the most rules for every design. Prints a table
 * and writes the figures as JSON (`--out`, or a file in the temporary folder it names).
 *
 *   npm run build && flock /tmp/cnilab-itest.lock node dist/bench/policy.js \
 *     [--rules 0,100,1000,10000] [--connections 1000] [--changes 20] [--cases a,b] [--out FILE] [--json]
 */
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { architectures } from '../src/arch';
import { missingReason, probeFeatures } from '../src/doctor/features';
import { down, up } from '../src/lab/lab';
import { switchPolicyDesign } from '../src/lab/policy';
import { runCatalogue } from '../src/lab/policy-catalogue';
import type { LabState } from '../src/lab/state';
import { policyScaleTest } from '../src/run/policy-scale';
import { policyRules } from '../src/run/policy-scale/flags';
import { measurePolicyScale } from '../src/run/policy-scale/measure';
import { planPolicyScale } from '../src/run/policy-scale/plan';
import { policyScaleLines } from '../src/run/policy-scale/report';
import { policyScaleSchema } from '../src/run/policy-scale/schema';
import { parseTopology } from '../src/topology/load';
import { benchArgs, count, str } from './args';
import { POLICY_TARGETS, policyFigures, type CatalogueFigure } from './policy-targets';
import { judge, targetLines } from './targets';

const opts = benchArgs(
  'node dist/bench/policy.js [--rules 0,100,1000,10000] [--connections N] [--changes N] [--cases a,b] ' +
    '[--out FILE] [--json]',
  {
    rules: str('0,100,1000,10000'),
    connections: count(1000),
    changes: count(20),
    cases: str(),
    out: str(),
  },
);

const say = (s: string): void => void (opts.json || process.stderr.write(`${s}\n`));

/** The two labs: their architecture, their name. */
const LABS = [
  { arch: 'calico-bgp', lab: 'cnilabt-polb-calico' },
  { arch: 'ebpf-native', lab: 'cnilabt-polb-ebpf' },
] as const;

const topology = (lab: string) =>
  parseTopology('topology: {defaults: {pods: 2}, computeNodes: 2}', 'bench', { name: lab });

/** Labs up now: Ctrl-C takes them down first. */
const labs = new Set<string>();
process.once('SIGINT', () => {
  void Promise.all([...labs].map((l) => down(l).catch(() => undefined))).finally(() => process.exit(130));
});

/** (a): the catalogue through every design of each lab, each lab back to its first design after. */
async function correctness(states: readonly LabState[]): Promise<CatalogueFigure[]> {
  const out: CatalogueFigure[] = [];
  const cases = opts.cases?.split(',').filter(Boolean);
  for (const s of states) {
    const designs = (architectures.get(s.arch).control.policy?.designs ?? []).map((d) => d.name);
    for (const design of designs) {
      say(`${s.arch}: the policy catalogue through ${design}`);
      await switchPolicyDesign(s.lab, design);
      const r = await runCatalogue(s.lab, { ...(cases ? { cases } : {}), progress: (l) => say(`  ${l}`) });
      out.push({
        design,
        arch: s.arch,
        cases: r.cases.length,
        differences: r.differences,
        failing: r.cases.filter((c) => c.differences).map((c) => c.name),
      });
    }
    if (designs.length > 1) await switchPolicyDesign(s.lab, designs[0]!);
  }
  return out;
}

const catalogueLines = (c: readonly CatalogueFigure[]): string[] => [
  'Correctness (the policy catalogue, probe matrices against the oracle):',
  `  ${'ARCH · DESIGN'.padEnd(30)} ${'CASES'.padStart(6)} ${'DIFFERENCES'.padStart(12)}  DIFFERING`,
  ...c.map(
    (x) =>
      `  ${`${x.arch} · ${x.design}`.padEnd(30)} ${String(x.cases).padStart(6)} ${String(x.differences).padStart(12)}` +
      `  ${x.failing.join(', ') || '—'}`,
  ),
];

async function main(): Promise<void> {
  const t0 = performance.now();
  const started = new Date().toISOString();
  const rules = policyRules(opts.rules);
  const features = await probeFeatures();
  const archs = LABS.map((l) => architectures.get(l.arch)).filter((a) => {
    const designs = a.control.policy?.designs ?? [];
    const why = designs.length ? missingReason(features, a.requires) : 'enforces no NetworkPolicy';
    if (why) say(`${a.name}: skipped: ${why}`);
    return !why;
  });
  const settings = { rules, connections: opts.connections, changes: opts.changes, throughputSec: 1 };
  const states: LabState[] = [];
  try {
    for (const a of archs) {
      const lab = LABS.find((l) => l.arch === a.name)!.lab;
      say(`${lab}: up (${a.name})`);
      await down(lab).catch(() => undefined);
      labs.add(lab);
      states.push(await up({ topology: topology(lab), arch: a.name, features }));
    }
    const catalogue = await correctness(states);
    const { cells, skipped } = planPolicyScale({ topology: states[0]!.topology, archs, features });
    for (const s of skipped) say(`${s.arch}: skipped: ${s.reason}`);
    const figures = await measurePolicyScale(
      cells.map((cell) => {
        const state = states[archs.indexOf(cell.arch)]!;
        return { cell: { ...cell, lab: state.lab }, state };
      }),
      settings,
      { seed: 33, labNetns: () => new Set(), progress: say },
    );
    const json = policyScaleSchema.parse(policyScaleTest.record(settings, figures));
    const targets = judge(POLICY_TARGETS, policyFigures(catalogue, json));
    const wallSec = (performance.now() - t0) / 1000;
    const result = { started, wallSec, catalogue, policyScale: json, targets };
    const file = opts.out ?? join(tmpdir(), `cnilab-bench-policy-${started.replace(/[:.]/g, '-')}.json`);
    writeFileSync(file, JSON.stringify(result, null, 2) + '\n');
    if (opts.json) return void process.stdout.write(JSON.stringify(result, null, 2) + '\n');
    process.stdout.write(
      [
        `policy bench (${started}; rules ${rules.join(',')}; ${opts.connections} connections, ${opts.changes} ` +
          `changes per design and N):`,
        ...catalogueLines(catalogue),
        ...policyScaleLines(json),
        ...targetLines(targets),
        `figures: ${file}`,
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
