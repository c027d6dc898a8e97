/**
 * Benchmark: how long `up` and `down` of the default lab (1 control + 3 compute nodes, 6 pods,
 * vxlan) take, beside Mininet building the same number of hosts on a Linux bridge
 * (`mn --topo single,6 --switch lxbr --controller none --test none`), measured in the same run.
 * Mininet runs inside a namespace of its own with /proc/sys read-only, so it changes nothing of
 * the host. Also timed whole: the `cnilab up` and `cnilab down` commands beside the `mn` command
 * (each with its interpreter's start). Targets: up ≤ 1.5 × Mininet's build (and the commands ≤
 * 1.5 × `mn`), down ≤ 0.3 s.
 *
 *   npm run bench -- [--rounds N] [--json]        (scripts/setup.sh --bench installs Mininet)
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../src/lib/exec';
import { REPO_ROOT } from '../src/lib/paths';
import { down, up } from '../src/lab/lab';
import { parseTopology } from '../src/topology/load';
import { probeFeatures } from '../src/doctor/features';
import { median } from '../src/run/stats';
import { benchArgs, count } from './args';
import { withBenchNetns } from './common';
import { judge, targetLines, type Target } from './targets';

const LAB = 'bench-lifecycle';
const opts = benchArgs('npm run bench:lifecycle -- [--rounds N] [--json]', { rounds: count(5) });
const TARGETS: readonly Target[] = [
  {
    name: 'up, cnilab / Mininet (build+start beside build+start)',
    figure: 'upRatio',
    direction: 'at most',
    threshold: 1.5,
    unit: '×',
    why: 'Mininet is the yardstick for hosts in namespaces on one machine: a lab builds within 1.5× of it (README)',
  },
  {
    name: 'the up and down commands / the mn command, whole',
    figure: 'wholeRatio',
    direction: 'at most',
    threshold: 1.5,
    unit: '×',
    why: "the same yardstick for what a user waits for, the interpreters' starts included",
  },
  {
    name: 'cnilab down',
    figure: 'downSec',
    direction: 'at most',
    threshold: 0.3,
    unit: 's',
    why: 'a lab is taken down after every run and test: its removal should be next to free (README)',
  },
];

interface CnilabRound {
  underlay: number;
  controlPlaneAndPods: number;
  up: number;
  down: number;
}

async function cnilabRound(): Promise<CnilabRound> {
  const topology = parseTopology('', 'default', { name: LAB });
  const features = await probeFeatures();
  const marks: number[] = [];
  const t0 = performance.now();
  await up({ topology, arch: 'flannel-vxlan', features, onStep: () => marks.push(performance.now()) });
  const t1 = performance.now();
  await down(LAB);
  const t2 = performance.now();
  return {
    underlay: (marks[1]! - marks[0]!) / 1000,
    controlPlaneAndPods: (t1 - marks[1]!) / 1000,
    up: (t1 - t0) / 1000,
    down: (t2 - t1) / 1000,
  };
}

/** Mininet's Python API in a namespace of its own; /proc/sys read-only so its fixLimits() changes nothing. */
async function mininetRound(ns: string): Promise<{ up: number; down: number; mnTotal: number }> {
  const readOnlySys = [
    'unshare',
    '--mount',
    '--propagation',
    'private',
    'sh',
    '-c',
    'mount -o bind,ro /proc/sys /proc/sys && exec "$@"',
    'sh',
  ];
  const api = await run('ip', [
    'netns',
    'exec',
    ns,
    ...readOnlySys,
    '/usr/bin/python3',
    join(REPO_ROOT, 'bench/mininet-build.py'),
    '6',
  ]);
  const { upSec, downSec } = JSON.parse(api.stdout.trim().split('\n').pop()!) as { upSec: number; downSec: number };
  const t0 = performance.now();
  await run('ip', [
    'netns',
    'exec',
    ns,
    ...readOnlySys,
    'mn',
    '--topo',
    'single,6',
    '--switch',
    'lxbr',
    '--controller',
    'none',
    '--test',
    'none',
  ]);
  return { up: upSec, down: downSec, mnTotal: (performance.now() - t0) / 1000 };
}

/**
 * `cnilab up` then `cnilab down`, the commands a user types, timed whole (with Node's starts), run
 * inside `ns` as Mininet's `mn` is: the measure beside `mn … --test none`, which starts Python,
 * builds, starts and stops.
 */
async function cnilabCommands(ns: string): Promise<number> {
  const cli = join(REPO_ROOT, 'dist/src/cli/main.js');
  const t0 = performance.now();
  await run('nsenter', [`--net=/run/netns/${ns}`, '--', process.execPath, cli, 'up', '--lab', LAB]);
  await run('nsenter', [`--net=/run/netns/${ns}`, '--', process.execPath, cli, 'down', '--lab', LAB]);
  return (performance.now() - t0) / 1000;
}

async function main(): Promise<void> {
  const { rounds } = opts;
  const haveMininet = existsSync('/usr/bin/mn') && existsSync('/usr/lib/python3/dist-packages/mininet');
  const c: CnilabRound[] = [];
  const m: { up: number; down: number; mnTotal: number }[] = [];
  const cliWhole: number[] = [];
  await withBenchNetns('mininet', async (ns) => {
    for (let i = 0; i < rounds; i++) {
      if (haveMininet) m.push(await mininetRound(ns));
      c.push(await cnilabRound());
      cliWhole.push(await cnilabCommands(ns));
      if (!opts.json) process.stderr.write(`round ${i + 1}/${rounds}\n`);
    }
  });
  const med = <K extends string>(xs: Record<K, number>[], k: K): number => median(xs.map((x) => x[k]));
  const result = {
    rounds,
    cnilab: {
      upSec: med(c, 'up'),
      underlaySec: med(c, 'underlay'),
      controlPlaneAndPodsSec: med(c, 'controlPlaneAndPods'),
      downSec: med(c, 'down'),
      upDownCommandsSec: median(cliWhole),
    },
    mininet: haveMininet
      ? { upSec: med(m, 'up'), downSec: med(m, 'down'), mnCommandSec: med(m, 'mnTotal') }
      : { skipped: 'Mininet is not installed (scripts/setup.sh --bench)' },
  };
  const upRatio = haveMininet ? result.cnilab.upSec / med(m, 'up') : undefined;
  const wholeRatio = haveMininet ? result.cnilab.upDownCommandsSec / med(m, 'mnTotal') : undefined;
  const targets = judge(TARGETS, { upRatio, wholeRatio, downSec: result.cnilab.downSec });
  const out = { ...result, upRatio, wholeRatio, targets };
  if (opts.json) return void process.stdout.write(JSON.stringify(out, null, 2) + '\n');
  const f = (s: number): string => `${s.toFixed(3)} s`;
  const lines = [
    `lab lifecycle, median of ${rounds} rounds (default lab: 4 nodes + switch, 6 pods, flannel-vxlan)`,
    `  cnilab up                 ${f(result.cnilab.upSec)}`,
    `    underlay (namespaces, switch, links)   ${f(result.cnilab.underlaySec)}`,
    `    control plane + 6 CNI ADDs             ${f(result.cnilab.controlPlaneAndPodsSec)}   (each ADD: flannel → ` +
      `bridge → host-local)`,
    `  cnilab down               ${f(result.cnilab.downSec)}`,
    `  cnilab up + cnilab down, the commands (Node's starts included)   ${f(result.cnilab.upDownCommandsSec)}`,
  ];
  if (haveMininet) {
    lines.push(
      `  mininet build+start       ${f(med(m, 'up'))}   (6 hosts, lxbr switch)`,
      `  mininet stop              ${f(med(m, 'down'))}`,
      `  mn … --test none (whole)  ${f(med(m, 'mnTotal'))}`,
    );
  } else lines.push(`  mininet: skipped — ${(result.mininet as { skipped: string }).skipped}`);
  lines.push(...targetLines(targets));
  process.stdout.write(lines.join('\n') + '\n');
}

main().catch(async (e: unknown) => {
  await down(LAB).catch(() => undefined);
  process.stderr.write(`bench: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
});
