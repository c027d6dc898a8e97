/**
 * Bad input and faults, for every cnilab plugin executable, in a lab namespace:
 * - a property-based fuzzer (fast-check) feeds each plugin a valid configuration with one hostile
 *   fault in stdin or the environment — truncated JSON, wrong types, huge values, unknown versions,
 *   path traversal and shell metacharacters in names and namespace paths. Every case must answer
 *   one spec error JSON on stdout with the code that fault deserves, exit non-zero, print no stack
 *   trace, and leave no link and no allocation behind. The number of cases is printed;
 * - 100 concurrent ADDs on one network get 100 distinct addresses;
 * - a bridge ADD killed with SIGKILL at any moment leaves nothing that GC cannot clean.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { fuzzCases, type FuzzCase } from './fuzz-cases';
import { scratchRuntime } from './scratch';
import type { NetConfList } from '../../src/cni/types';
import { addNetns, deleteNetns, ip, ipJson } from '../../src/lib/netns';
import { sleep } from '../../src/lib/exec';
import { CNI_BIN_DIR } from '../../src/lib/paths';
import { nodeNetns, podNetns, runDir } from '../../src/lab/names';
import { teardownLab } from '../../src/lab/teardown';
import { assertNothingLeft, rootSnapshot, waitFor, type RootSnapshot, linkNames } from './helpers';
import { execPlugin, groupGone, spawnPlugin } from './plugin-exec';

const LAB = 't-cnif';
const HOST = nodeNetns(LAB, 'host');
const POD = podNetns(LAB, 'fz');
const DATA = join(runDir(LAB), 'ipam');
/** 240 cases in the suite; `npm run fuzz` runs 10,000. */
const FUZZ_RUNS = Number(process.env.CNILAB_FUZZ_RUNS ?? 240);
let root: RootSnapshot;
let hostLinksBefore: string[] = [];

before(async () => {
  root = await rootSnapshot();
  await teardownLab(LAB);
  await addNetns(HOST);
  await addNetns(POD);
  await ip({ name: HOST }, ['link', 'add', 'up0', 'type', 'veth', 'peer', 'name', 'up1']);
  await ip({ name: HOST }, ['link', 'set', 'up0', 'up']);
  mkdirSync(join(runDir(LAB), 'flannel'), { recursive: true });
  writeFileSync(
    join(runDir(LAB), 'flannel', 'subnet.env'),
    'FLANNEL_NETWORK=10.84.0.0/16\nFLANNEL_SUBNET=10.84.1.1/24\nFLANNEL_MTU=1450\nFLANNEL_IPMASQ=true\n',
  );
  hostLinksBefore = await links(HOST);
});

after(async () => {
  await teardownLab(LAB);
  await assertNothingLeft(LAB, root);
});

async function links(ns: string): Promise<string[]> {
  return (await linkNames(ns)).sort();
}

const cases = fuzzCases({ pod: POD, dataDir: DATA, labDir: runDir(LAB) });

function invoke(c: FuzzCase): Promise<{ code: number; stdout: string; stderr: string }> {
  return execPlugin(HOST, join(CNI_BIN_DIR, c.plugin), c.env, c.stdin);
}

const allocations = (): string[] => {
  try {
    return readdirSync(DATA, { recursive: true, encoding: 'utf8' }).filter((f) => /(^|\/)\d+\.\d+\.\d+\.\d+$/.test(f));
  } catch {
    return [];
  }
};

test(
  `fuzzer: ${FUZZ_RUNS} hostile invocations across every plugin get the right spec error and leave nothing behind`,
  { timeout: Math.max(180_000, FUZZ_RUNS * 100) },
  async (t) => {
    const seen = new Map<string, number>();
    const seed = Number(process.env.CNILAB_FUZZ_SEED ?? Date.now() % 2 ** 31); // CNILAB_FUZZ_SEED=N replays a run
    await fc.assert(
      fc.asyncProperty(cases.arbitrary(), async (c) => {
        const r = await invoke(c);
        const label = `${c.plugin} ${c.command} ${c.fault}`;
        seen.set(c.fault, (seen.get(c.fault) ?? 0) + 1);
        assert.notEqual(r.code, 0, `${label}: must fail, answered ${r.stdout.slice(0, 200)}`);
        assert.doesNotMatch(
          r.stdout + r.stderr,
          /\n\s+at |TypeError|ReferenceError|RangeError/,
          `${label}: no stack trace`,
        );
        let body: { code?: unknown; msg?: unknown };
        try {
          body = JSON.parse(r.stdout) as typeof body;
        } catch {
          assert.fail(`${label}: stdout is not one JSON object: ${JSON.stringify(r.stdout.slice(0, 200))}`);
        }
        assert.equal(typeof body.msg, 'string', `${label}: msg`);
        assert.ok(
          c.codes.includes(body.code as number),
          `${label}: code ${String(body.code)} (${String(body.msg)}), expected one of ${c.codes.join(', ')}`,
        );
        assert.deepEqual(allocations(), [], `${label}: no address left allocated`);
      }),
      { numRuns: FUZZ_RUNS, seed, endOnFailure: true },
    );
    assert.deepEqual(await links(HOST), hostLinksBefore, 'no link left in the host namespace');
    assert.deepEqual(await links(POD), ['lo'], 'no link left in the pod');
    t.diagnostic(
      `fuzzer: ${FUZZ_RUNS} cases, seed ${seed}; by fault: ${[...seen]
        .sort()
        .map(([f, n]) => `${f} ${n}`)
        .join(', ')}`,
    );
  },
);

const list = (name: string, subnet: string): NetConfList => ({
  cniVersion: '1.1.0',
  name,
  plugins: [
    { type: 'bridge', bridge: `b-${name}`, isGateway: true, ipam: { type: 'host-local', subnet, dataDir: DATA } },
  ],
});
const runtime = scratchRuntime(LAB);

const concurrentTitle =
  '100 concurrent ADDs on one network get 100 distinct addresses; 100 concurrent DELs give them all back';
test(concurrentTitle, async () => {
  const net = list('conc', '10.85.0.0/16');
  const pods = Array.from({ length: 100 }, (_, i) => podNetns(LAB, `k${i}`));
  for (const ns of pods) await addNetns(ns);
  const rt = (i: number) => ({ containerId: `conc-${i}`, netns: `/run/netns/${pods[i]}`, ifName: 'eth0' });
  const results = await Promise.all(pods.map((_, i) => runtime.addNetworkList(net, rt(i))));
  const addrs = results.map((r) => r.ips![0]!.address);
  assert.equal(new Set(addrs).size, 100, `duplicates among ${addrs.join(' ')}`);
  for (const [i, ns] of pods.entries()) {
    const [eth0] = await ipJson<{ addr_info: { local: string; prefixlen: number }[] }[]>({ name: ns }, [
      'addr',
      'show',
      'eth0',
    ]);
    assert.equal(
      `${eth0!.addr_info.find((a) => !a.local.includes(':'))!.local}/16`,
      addrs[i],
      'each pod wears the address its result names',
    );
  }
  await Promise.all(pods.map((_, i) => runtime.delNetworkList(net, rt(i))));
  assert.deepEqual(
    allocations().filter((f) => f.startsWith('conc/')),
    [],
  );
  assert.deepEqual(await ipJson({ name: HOST }, ['link', 'show', 'master', 'b-conc']), []);
  for (const ns of pods) await deleteNetns(ns);
});

test('a bridge ADD killed with SIGKILL at any moment leaves nothing that GC cannot clean', async (t) => {
  const net = list('kill', '10.86.0.0/24');
  const conf = JSON.stringify({ ...net.plugins[0], cniVersion: net.cniVersion, name: net.name });
  const delays = [0, 10, 25, 40, 55, 70, 85, 100, 120, 140, 170, 200, 260, 400, 800];
  const pods: string[] = [];
  for (const [i, delay] of delays.entries()) {
    const ns = podNetns(LAB, `kill${i}`);
    await addNetns(ns);
    pods.push(ns);
    const env = {
      CNI_COMMAND: 'ADD',
      CNI_CONTAINERID: `kill-${i}`,
      CNI_NETNS: `/run/netns/${ns}`,
      CNI_IFNAME: 'eth0',
      CNI_PATH: CNI_BIN_DIR,
    };
    const child = spawnPlugin(HOST, join(CNI_BIN_DIR, 'bridge'), env);
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.stdin!.end(conf);
    await sleep(delay);
    child.kill('SIGKILL');
    await exited;
    // An `ip` the plugin had started runs on to its end: wait until its whole process group is gone.
    await waitFor(`the programs of killed ADD ${i} to end`, () => groupGone(child.pid!));
  }
  const leftPorts = await ipJson<unknown[]>({ name: HOST }, ['link', 'show', 'master', 'b-kill']).catch(() => []);
  const leftAddrs = allocations().filter((f) => f.startsWith('kill/'));
  assert.ok(leftPorts.length + leftAddrs.length > 0, 'some kill must have left something, or this test proves nothing');
  t.diagnostic(
    `SIGKILL: ${delays.length} ADDs killed; before GC: ${leftPorts.length} ports, ${leftAddrs.length} addresses`,
  );

  await runtime.gcNetworkList(net, []);
  assert.deepEqual(await ipJson({ name: HOST }, ['link', 'show', 'master', 'b-kill']), [], 'GC removed every port');
  assert.deepEqual(
    allocations().filter((f) => f.startsWith('kill/')),
    [],
    'GC released every address',
  );
  for (const ns of pods) {
    assert.deepEqual(await links(ns), ['lo'], `${ns}: the container end went with the host end`);
    await deleteNetns(ns);
  }
});
