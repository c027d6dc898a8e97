/**
 * Benchmark: what checking credentials costs on pod attach (issue 31). Per architecture (default:
 * one Calico, one Kuryr — the kinds whose CNI ADD calls the controller: calico-ipam → /v3,
 * kuryr-cni → the Kuryr daemon → the Neutron-like API at /v2.0), two labs of the same topology (1
 * control + 2 compute nodes, 1 pod each): `bench-auth-on-ARCH`, started as every lab is (its
 * controller checks the nodes' bearer tokens), and `bench-auth-off-ARCH`, started with the
 * benchmark's switch CNILAB_BENCH_CONTROL_AUTH=off (its controller checks nothing). Before
 * measuring, each lab is shown to be what it should be (admin.credential, the nodes' credentials,
 * an unauthenticated GET /credentials answered 401 — or not), else the benchmark fails.
 *
 * Then one warm-up round (discarded) and N interleaved rounds, the labs' order reversed every
 * round so the machine's drift hits both alike: in each, each lab gets K probe pods attached
 * exactly as `cnilab run --tests attach` attaches them (run/attach/measure.ts `measureAttach`:
 * ADD through the lab's CNI runtime on the probe node, ADD until the first answered ping, DEL),
 * giving the round's median ADD and ADD→ping of each lab. The round's ratio is on/off; the 95%
 * interval is the project's paired one (run/paired.ts: t on the logs of the per-round ratios).
 * flannel is not measured: its ADD does not call the controller (the flannel plugin reads the
 * node's subnet.env; only flanneld talks to it).
 *
 * Target: the on/off ADD ratio at most 1.05 (bench/targets.ts: exceeded when the whole interval
 * lies at or below 1.05, met when it straddles it, MISSED when it lies wholly above).
 * Labs are torn down at the end, on error and on Ctrl-C.
 *
 *   npm run bench:control-auth -- [--archs A,B] [--rounds N] [--attaches K] [--json]
 */
import { existsSync } from 'node:fs';
import { architectures } from '../src/arch';
import type { Architecture } from '../src/arch/architecture';
import { table } from '../src/cli/output';
import { missingReason, probeFeatures, type FeatureReport } from '../src/doctor/features';
import { figure } from '../src/lib/format';
import { httpJson } from '../src/lib/http-json';
import { namedNetnsInodes } from '../src/lib/netns';
import { BENCH_AUTH_OFF_ENV, checksCredentials, credentialFile } from '../src/lab/credentials';
import { up } from '../src/lab/lab';
import { controllerSocket, controlRequest } from '../src/lab/processes';
import type { LabState } from '../src/lab/state';
import { labNamespaces, teardownLab } from '../src/lab/teardown';
import { measureAttach } from '../src/run/attach/measure';
import { planAttach, type AttachCell } from '../src/run/attach/plan';
import { judgeNoise, load1, NOISE_LIMITS, readNoise } from '../src/run/noise';
import { parseTopology } from '../src/topology/load';
import { cpuSplit } from '../src/traffic/cpu/proc-stat';
import { benchArgs, count, str } from './args';
import { authCost, roundLabs, type AuthCost, type RoundMedians } from './control-auth-stats';
import { judge, targetLines, type Judged, type Target } from './targets';

const USAGE = 'npm run bench:control-auth -- [--archs A,B] [--rounds N] [--attaches K] [--json]';
const opts = benchArgs(USAGE, { archs: str('calico-bgp,kuryr-lb-vxlan'), rounds: count(40), attaches: count(10) });
const TOPOLOGY =
  'topology: {defaults: {pods: 1}, nodes: {control: {role: control}, node1: {role: compute}, node2: {role: compute}}}';
const THRESHOLD = 1.05;
const WHY =
  'issue 31: checking a bearer token is a hash and a lookup per request, against an ADD of tens of ms through ' +
  'processes and the kernel; an interval that holds 1 can be wide and still say nothing, so the target bounds the ' +
  'cost instead: 5% is about what 40 rounds resolve on this 2-core VM, and a cost below it is not where attach ' +
  'time goes';
const FLANNEL_NOTE =
  "flannel: not measured — its ADD does not call the controller (the flannel plugin reads the node's subnet.env; " +
  'only flanneld talks to the controller)';

const CHECKS_OFF = `${BENCH_AUTH_OFF_ENV}=off`;

const abort = new AbortController();
process.once('SIGINT', () => abort.abort());
process.once('SIGTERM', () => abort.abort());
const say = (s: string): void => void (opts.json || process.stderr.write(`${s}\n`));

/** One of the two labs of an architecture. */
interface Side {
  readonly checks: boolean;
  readonly state: LabState;
  readonly cell: AttachCell;
}

/** What shows a lab checks credentials, or does not. */
interface Proof {
  readonly adminCredential: boolean;
  readonly nodeCredentials: number;
  readonly unauthenticatedStatus: number;
  /** Nodes the controller holds a token for (the administrator's GET /credentials), in a lab that checks. */
  readonly nodesIssued?: number;
}

interface RoundFigures {
  readonly round: number;
  readonly order: readonly ('on' | 'off')[];
  readonly on: { readonly add: number; readonly firstPacket: number };
  readonly off: { readonly add: number; readonly firstPacket: number };
}

interface ArchResult {
  readonly arch: string;
  readonly kind: string;
  readonly labs: { readonly on: string; readonly off: string };
  readonly probeNode: string;
  readonly target: string;
  readonly proof: { readonly on: Proof; readonly off: Proof };
  readonly rounds: readonly RoundFigures[];
  readonly add: AuthCost;
  readonly firstPacket: AuthCost;
  readonly noise: { busyPct: number; stealPct: number; outsidePct: number; load1: number };
}

const labName = (arch: string, checks: boolean): string => `bench-auth-${checks ? 'on' : 'off'}-${arch}`;

/** Starts one lab of `arch`: checking credentials, or (the benchmark's switch) not. */
async function startSide(arch: Architecture, checks: boolean, features: FeatureReport): Promise<Side> {
  const lab = labName(arch.name, checks);
  const topology = parseTopology(TOPOLOGY, 'bench/control-auth', { name: lab });
  await teardownLab(lab); // what a crashed run of this benchmark left
  const before = process.env[BENCH_AUTH_OFF_ENV];
  if (checks) delete process.env[BENCH_AUTH_OFF_ENV];
  else process.env[BENCH_AUTH_OFF_ENV] = 'off';
  let state: LabState;
  try {
    say(`${lab}: up (${arch.name}, ${checks ? 'checks credentials' : CHECKS_OFF})`);
    state = await up({ topology, arch: arch.name, features, signal: abort.signal });
  } finally {
    if (before === undefined) delete process.env[BENCH_AUTH_OFF_ENV];
    else process.env[BENCH_AUTH_OFF_ENV] = before;
  }
  const { cells } = planAttach({ topology, archs: [arch], features });
  if (!cells[0]) throw new Error(`${arch.name}: the attach test has no probe in this topology`);
  return { checks, state, cell: cells[0] };
}

/** Shows the lab checks credentials (or, `checks` false, does not); throws saying what it found otherwise. */
async function prove(side: Side): Promise<Proof> {
  const lab = side.state.lab;
  const compute = side.state.topology.nodes.filter((n) => n.role === 'compute').map((n) => n.name);
  const anon = await httpJson<unknown>('http://controller/credentials', { socketPath: controllerSocket(lab) });
  const proof: Proof = {
    adminCredential: checksCredentials(lab),
    nodeCredentials: compute.filter((n) => existsSync(credentialFile(lab, n))).length,
    unauthenticatedStatus: anon.status,
    ...(side.checks
      ? { nodesIssued: (await controlRequest<{ nodes?: unknown[] }>(lab, 'GET', '/credentials')).body.nodes?.length }
      : {}),
  };
  const ok = side.checks
    ? proof.adminCredential &&
      proof.nodeCredentials === compute.length &&
      proof.unauthenticatedStatus === 401 &&
      (proof.nodesIssued ?? 0) >= compute.length
    : !proof.adminCredential && proof.nodeCredentials === 0 && proof.unauthenticatedStatus !== 401;
  if (!ok)
    throw new Error(
      `lab ${lab} should ${side.checks ? '' : 'not '}check credentials, but found: ${JSON.stringify(proof)} ` +
        `(admin.credential, node credentials, the status of an unauthenticated GET /credentials)`,
    );
  return proof;
}

/** One lab's share of a round: K probes as the attach test takes them; their medians (ms). */
async function attachRound(side: Side, k: number, seed: number, labNetns: () => ReadonlySet<number>) {
  const [figures] = await measureAttach(
    [{ cell: side.cell, state: side.state }],
    { samples: k, sizes: [side.state.topology.pods.length] },
    { seed, labNetns, signal: abort.signal, progress: () => undefined },
  );
  const size = figures!.sizes[0]!;
  return { add: size.add.p50, firstPacket: size.firstPacket.p50 };
}

/** The warm-up round, then the interleaved rounds, in the two labs. */
async function rounds(on: Side, off: Side, ns: () => ReadonlySet<number>): Promise<RoundFigures[]> {
  const out: RoundFigures[] = [];
  for (let r = 0; r <= opts.rounds; r++) {
    const order = roundLabs(Math.max(r, 1), on, off);
    say(
      `${on.cell.arch.name}: ${r === 0 ? 'warm-up round' : `round ${r}/${opts.rounds}`}, ${order.map(side).join(' then ')}`,
    );
    const got = new Map<boolean, { add: number; firstPacket: number }>();
    for (const s of order) got.set(s.checks, await attachRound(s, opts.attaches, r, ns));
    if (r > 0) out.push({ round: r, order: order.map(side), on: got.get(true)!, off: got.get(false)! });
  }
  return out;
}
const side = (s: Side): 'on' | 'off' => (s.checks ? 'on' : 'off');

/** Both labs of `arch` up and proven, the rounds measured, the labs removed (also on error). */
async function measureArch(arch: Architecture, features: FeatureReport): Promise<ArchResult> {
  try {
    const on = await startSide(arch, true, features);
    const off = await startSide(arch, false, features);
    const proof = { on: await prove(on), off: await prove(off) };
    const ns = (): ReadonlySet<number> =>
      namedNetnsInodes([...labNamespaces(on.state.lab), ...labNamespaces(off.state.lab)]);
    const before = readNoise(ns());
    const measured = await rounds(on, off, ns);
    const after = readNoise(ns());
    const { stealPct, outsidePct, load1: load } = judgeNoise(before, after, load1(), NOISE_LIMITS);
    const pick = (f: 'add' | 'firstPacket'): RoundMedians[] => measured.map((x) => ({ on: x.on[f], off: x.off[f] }));
    return {
      arch: arch.name,
      kind: arch.control.kind,
      labs: { on: on.state.lab, off: off.state.lab },
      probeNode: on.cell.node,
      target: on.cell.target,
      proof,
      rounds: measured,
      add: authCost(pick('add')),
      firstPacket: authCost(pick('firstPacket')),
      noise: { busyPct: cpuSplit(before.cpu, after.cpu).busy, stealPct, outsidePct, load1: load },
    };
  } finally {
    for (const checks of [true, false]) await teardownLab(labName(arch.name, checks));
  }
}

const TARGET = (arch: string): Target => ({
  name: `${arch}: CNI ADD p50 with credential checks / without`,
  figure: `${arch}:add`,
  direction: 'at most',
  threshold: THRESHOLD,
  unit: '×',
  why: WHY,
});

function print(results: readonly ArchResult[], targets: readonly Judged[], seconds: number): void {
  const ci = (c: AuthCost): string =>
    `${figure(c.ratio.geomean)}× (${figure(c.ratio.ci95.low)}–${figure(c.ratio.ci95.high)})`;
  const rows = results.flatMap((r) =>
    (['add', 'firstPacket'] as const).map((f) => [
      r.arch,
      r.kind,
      f === 'add' ? 'ADD' : 'ADD→ping',
      figure(r[f].onMs),
      figure(r[f].offMs),
      ci(r[f]),
      r[f].verdict,
    ]),
  );
  const proofLine = (r: ArchResult): string =>
    `  ${r.arch}: on — admin.credential, ${r.proof.on.nodeCredentials} node credentials, ${r.proof.on.nodesIssued} ` +
    `issued, unauthenticated GET /credentials → ${r.proof.on.unauthenticatedStatus}; off — ` +
    `${r.proof.off.adminCredential ? 'admin.credential (!)' : 'no admin.credential'}, ` +
    `${r.proof.off.nodeCredentials} node credentials, → ${r.proof.off.unauthenticatedStatus}`;
  const lines = [
    `What checking credentials costs on pod attach: per architecture two labs of 1 control + 2 compute nodes ` +
      `(1 pod each), one checking credentials (on), one started with ${CHECKS_OFF} (off); 1 warm-up round, then ` +
      `${opts.rounds} interleaved rounds (order reversed every round), ${opts.attaches} attaches per lab per round as ` +
      '`cnilab run --tests attach` takes them (measureAttach). ms: median of the rounds’ medians; on/off: geometric ' +
      'mean of the per-round ratios, 95% interval (paired t on their logs, run/paired.ts).',
    'The labs are what they should be:',
    ...results.map(proofLine),
    '',
    table(['ARCH', 'KIND', 'FIGURE', 'ON ms', 'OFF ms', 'ON/OFF (95%)', 'VERDICT'], rows, [3, 4]),
    '',
    ...results.map(
      (r) =>
        `machine while ${r.arch} was measured: ${r.noise.busyPct}% busy, ${r.noise.outsidePct}% outside the labs, ` +
        `${r.noise.stealPct}% stolen, load ${r.noise.load1}`,
    ),
    FLANNEL_NOTE,
    '',
    ...targetLines(targets),
    `took ${seconds} s`,
  ];
  process.stdout.write(lines.join('\n') + '\n');
}

async function main(): Promise<void> {
  const t0 = Date.now();
  const archs = opts.archs
    .split(',')
    .map((a) => a.trim())
    .filter(Boolean)
    .map((a) => architectures.get(a));
  const features = await probeFeatures();
  for (const a of archs) {
    const missing = missingReason(features, a.requires);
    if (missing) throw new Error(`${a.name} ${missing}`);
    if (!a.control.attachesPods) throw new Error(`${a.name} attaches no pods: nothing to measure`);
  }
  const results: ArchResult[] = [];
  for (const a of archs) results.push(await measureArch(a, features));
  const targets = judge(
    archs.map((a) => TARGET(a.name)),
    Object.fromEntries(
      results.map((r) => [
        `${r.arch}:add`,
        { value: r.add.ratio.geomean, low: r.add.ratio.ci95.low, high: r.add.ratio.ci95.high, n: r.add.ratio.n },
      ]),
    ),
  );
  const seconds = Math.round((Date.now() - t0) / 1000);
  if (opts.json) {
    const settings = { archs: archs.map((a) => a.name), rounds: opts.rounds, attaches: opts.attaches, warmup: 1 };
    const body = { settings, archs: results, notMeasured: FLANNEL_NOTE, targets, seconds };
    process.stdout.write(JSON.stringify(body, null, 2) + '\n');
    return;
  }
  print(results, targets, seconds);
}

main().catch((e: unknown) => {
  process.stderr.write(
    `bench/control-auth: ${abort.signal.aborted ? 'interrupted' : e instanceof Error ? e.message : String(e)}\n`,
  );
  process.exitCode = abort.signal.aborted ? 130 : 1;
});
