/** The cnilab command interrupted (Ctrl-C) at each step it can be in, and cleaning up after a crash. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isAlive } from '../../src/lib/exec';
import { runDir } from '../../src/lab/names';
import { ovsDbSocket } from '../../src/kuryr/control-plane';
import { teardownLab } from '../../src/lab/teardown';
import { assertNothingLeft, cli, crashThenDownAll, rootSnapshot, waitFor, type CliResult } from './helpers';

/**
 * PIDs of the traffic tools and Open vSwitch daemons running now (cnilab starts them inside lab namespaces); a zombie
 * — killed, not yet reaped by init — is not running.
 */
function toolPids(): number[] {
  return readdirSync('/proc')
    .filter((e) => /^\d+$/.test(e) && isAlive(Number(e)))
    .filter((e) => /^(iperf3|sockperf|ovs-vswitchd|ovsdb-server)$/.test(procFile(e, 'comm').trim()))
    .map(Number);
}

function procFile(pid: string | number, file: string): string {
  try {
    return readFileSync(`/proc/${pid}/${file}`, 'utf8');
  } catch {
    return ''; // ended while we looked
  }
}

/** True when a process started after `before` runs `tool` with argument `arg` (e.g. an iperf3 client: '-c'). */
const measuring = (tool: string, arg: string, before: readonly number[]) => (): boolean =>
  toolPids().some(
    (p) =>
      !before.includes(p) &&
      procFile(p, 'cmdline').split('\0')[0]!.endsWith(tool) &&
      procFile(p, 'cmdline').split('\0').includes(arg),
  );

const OUT = join(tmpdir(), 'cnilab-int-run');
// Three labs up at once: the Ctrl-C comes during a round, with every lab of the run up.
const RUN = ['run', '--arch', 'host,flannel-vxlan,macvlan', '--path', 'inter-node', '--out', OUT];

/**
 * Where each interruption comes: when the step is reached, never after a time — the lab's control
 * plane has started (its logs folder), node1's ovsdb-server listens (ovs-vswitchd is being started),
 * an iperf3 client runs, a sockperf client runs.
 */
function steps(toolsBefore: readonly number[]): [string, string[], string, () => boolean][] {
  return [
    [
      't-cli-int-up',
      ['up', '--arch', 'flannel-vxlan'],
      'control plane starting',
      () => existsSync(join(runDir('t-cli-int-up'), 'logs')),
    ],
    [
      't-cli-int-ky',
      ['up', '--arch', 'kuryr-ovs-vxlan'],
      'Open vSwitch starting',
      () => existsSync(ovsDbSocket('t-cli-int-ky', 'node1')),
    ],
    [
      't-cli-int-run',
      [...RUN, '--tests', 'tcp', '--duration', '10', '--repeats', '1'],
      'iperf3 measuring',
      measuring('iperf3', '-c', toolsBefore),
    ],
    [
      't-cli-int-lat',
      [...RUN, '--tests', 'latency', '--latency-duration', '5', '--repeats', '2'],
      'sockperf measuring',
      measuring('sockperf', 'ping-pong', toolsBefore),
    ],
  ];
}

/**
 * Runs `args` on lab `lab` and sends SIGINT the moment `reached` is true; the CLI's result, and whether the signal
 * came before it ended.
 */
async function interrupted(
  lab: string,
  args: string[],
  when: string,
  reached: () => boolean,
): Promise<CliResult & { signalled: boolean }> {
  let signalled = false;
  let closed = false;
  const r = await cli([...args, '--lab', lab], (pid) => {
    void waitFor(`${lab} to reach: ${when}`, () => closed || reached(), 120_000, 10).then(() => {
      if (closed) return;
      signalled = true;
      process.kill(pid, 'SIGINT');
    });
  });
  closed = true;
  return { ...r, signalled };
}

test('Ctrl-C during up (flannel; Kuryr with OVS starting), during a TCP test and during a latency test: exit 130, everything removed, the run folder too', async () => {
  const root = await rootSnapshot();
  const toolsBefore = toolPids();
  const sockperfDirs = () => readdirSync(tmpdir()).filter((e) => e.startsWith('cnilab-sockperf-'));
  const dirsBefore = sockperfDirs();
  for (const [lab, args, when, reached] of steps(toolsBefore)) {
    await teardownLab(lab);
    // The TCP run makes its folder; the latency run writes into one that holds a file of the user's.
    rmSync(OUT, { recursive: true, force: true });
    if (lab === 't-cli-int-lat') {
      mkdirSync(OUT);
      writeFileSync(join(OUT, 'notes.txt'), "the user's\n");
    }
    const r = await interrupted(lab, args, when, reached);
    assert.ok(r.signalled, `${lab}: ended before it reached "${when}": ${r.stderr}`);
    assert.equal(r.code, 130, `${lab}: ${r.stderr}`);
    assert.match(r.stderr, /SIGINT: stopping and cleaning up/);
    assert.match(r.stderr, /cnilab: interrupted; everything the command created was removed/);
    await assertNothingLeft(lab, root);
    if (lab === 't-cli-int-run') assert.ok(!existsSync(OUT), `${lab}: the run folder it made was left`);
    if (lab === 't-cli-int-lat')
      assert.deepEqual(readdirSync(OUT), ['notes.txt'], `${lab}: the run's files left, or the user's removed`);
    const tools = toolPids().filter((p) => !toolsBefore.includes(p));
    assert.deepEqual(tools, [], `${lab}: iperf3, sockperf or Open vSwitch left running`);
    assert.deepEqual(
      sockperfDirs().filter((d) => !dirsBefore.includes(d)),
      [],
      `${lab}: sockperf's log folder left`,
    );
  }
  rmSync(OUT, { recursive: true, force: true });
});

test('down --all removes leftovers of any lab found by prefix, e.g. after a crash', async (t) => {
  // A crash: the lab's processes and namespaces exist, the CLI that made them is gone.
  await crashThenDownAll(t, 't-cli-crash', 'flannel-vxlan');
});
