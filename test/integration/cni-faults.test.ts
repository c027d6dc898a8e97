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
import { CniRuntime } from '../../src/cni/runtime';
import type { NetConfList } from '../../src/cni/types';
import { NETWORK_NAME, CONTAINER_ID, isValidIfName } from '../../src/cni/skel';
import { addNetns, deleteNetns, ip, ipJson } from '../../src/lib/netns';
import { sleep } from '../../src/lib/exec';
import { CNI_BIN_DIR } from '../../src/lib/paths';
import { nodeNetns, podNetns, runDir } from '../../src/lab/names';
import { teardownLab } from '../../src/lab/teardown';
import { assertNothingLeft, rootSnapshot, waitFor, type RootSnapshot } from './helpers';
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
  writeFileSync(join(runDir(LAB), 'flannel', 'subnet.env'), 'FLANNEL_NETWORK=10.84.0.0/16\nFLANNEL_SUBNET=10.84.1.1/24\nFLANNEL_MTU=1450\nFLANNEL_IPMASQ=true\n');
  hostLinksBefore = await links(HOST);
});

after(async () => {
  await teardownLab(LAB);
  await assertNothingLeft(LAB, root);
});

async function links(ns: string): Promise<string[]> {
  return (await ipJson<{ ifname: string }[]>({ name: ns }, ['link', 'show'])).map((l) => l.ifname).sort();
}

const hl = { type: 'host-local', subnet: '10.83.0.0/24', dataDir: DATA };
const BASE: Record<string, Record<string, unknown>> = {
  bridge: { type: 'bridge', bridge: 'fzbr', isGateway: true, ipam: hl },
  macvlan: { type: 'macvlan', master: 'up0', ipam: hl },
  vlan: { type: 'vlan', master: 'up0', vlanId: 5, ipam: hl },
  ptp: { type: 'ptp', ipam: hl },
  'host-local': { type: 'host-local', ipam: hl },
  static: { type: 'static', ipam: { type: 'static', addresses: [{ address: '10.83.1.5/24' }] } },
  flannel: { type: 'flannel', subnetFile: join(runDir(LAB), 'flannel', 'subnet.env'), dataDir: join(runDir(LAB), 'flannel', 'data'), delegate: { bridge: 'fzbr2', ipam: { dataDir: DATA } } },
  'kuryr-cni': { type: 'kuryr-cni', daemonSocket: join(runDir(LAB), 'no-daemon.sock') },
};
const PLUGINS = Object.keys(BASE);
const INTERFACE_PLUGINS = new Set(['bridge', 'macvlan', 'vlan', 'ptp', 'flannel', 'kuryr-cni']);
const USES_HOST_LOCAL = new Set(['bridge', 'macvlan', 'vlan', 'ptp', 'host-local', 'flannel']);

/** Strings an attacker would try. */
const HOSTILE = fc.constantFrom('../../etc/passwd', '..', '.', '/', 'a/b', '$(reboot)', '`id`', 'x;rm -rf /', 'a b', 'eth0\n', '\0', '-rf', '|cat', '&&true', "'", '"', '\\', '🙂', 'a'.repeat(300), '');

/** Values of the wrong type for anything. */
const WRONG = fc.oneof(fc.string({ maxLength: 40 }), fc.integer({ min: -1e12, max: 1e12 }), fc.double(), fc.boolean(), fc.constant(null), fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 3 }), fc.dictionary(fc.string({ maxLength: 5 }), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 3 }), HOSTILE);

const isInt = (min: number, max: number) => (v: unknown): boolean => Number.isInteger(v) && (v as number) >= min && (v as number) <= max;
const isIf = (v: unknown): boolean => typeof v === 'string' && isValidIfName(v);
const isBool = (v: unknown): boolean => typeof v === 'boolean';

/** The spec's DNS object: string lists and a string domain; other keys pass. */
const isDns = (v: unknown): boolean => {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const o = v as Record<string, unknown>;
  const list = (x: unknown): boolean => x === undefined || (Array.isArray(x) && x.every((s) => typeof s === 'string'));
  return list(o.nameservers) && list(o.search) && list(o.options) && (o.domain === undefined || typeof o.domain === 'string');
};

/** Per plugin, fields and what a valid value is: the fuzzer sets them to anything else. */
const FIELDS: Record<string, [string[], (v: unknown) => boolean][]> = {
  bridge: [[['mtu'], isInt(68, 65535)], [['bridge'], isIf], [['isGateway'], isBool], [['hairpinMode'], isBool], [['ipMasq'], isBool], [['ipam', 'type'], (v) => typeof v === 'string' && /^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(v)]],
  macvlan: [[['master'], isIf], [['mode'], (v) => ['bridge', 'private', 'vepa', 'passthru'].includes(v as string)], [['mtu'], isInt(68, 65535)]],
  vlan: [[['vlanId'], isInt(0, 4094)], [['master'], isIf], [['mtu'], isInt(68, 65535)]],
  ptp: [[['mtu'], isInt(68, 65535)], [['ipMasq'], isBool]],
  'host-local': [[['ipam', 'subnet'], () => false], [['ipam', 'dataDir'], (v) => typeof v === 'string' && v.startsWith('/')], [['ipam', 'routes'], (v) => Array.isArray(v) && v.length === 0], [['ipam', 'rangeStart'], () => false]],
  static: [[['ipam', 'addresses'], () => false], [['ipam', 'routes'], (v) => Array.isArray(v) && v.length === 0], [['ipam', 'dns'], isDns]],
  flannel: [[['delegate'], (v) => typeof v === 'object' && v !== null && !Array.isArray(v)]],
  'kuryr-cni': [[['daemonSocket'], (v) => typeof v === 'string' && v.startsWith('/')]],
};

interface Case {
  readonly plugin: string;
  readonly command: 'ADD' | 'DEL' | 'CHECK';
  readonly fault: string;
  readonly stdin: string;
  readonly env: Record<string, string | undefined>;
  /** The codes this fault deserves. */
  readonly codes: readonly number[];
}

function setPath(o: Record<string, unknown>, path: string[], v: unknown): Record<string, unknown> {
  const copy = structuredClone(o);
  let at = copy;
  for (const k of path.slice(0, -1)) at = (at[k] = { ...(at[k] as Record<string, unknown>) }) as Record<string, unknown>;
  at[path[path.length - 1]!] = v;
  return copy;
}

const PREV = { cniVersion: '1.0.0', interfaces: [{ name: 'eth0', sandbox: `/run/netns/${POD}` }], ips: [{ address: '10.83.0.2/24', interface: 0 }] };

function caseArb(): fc.Arbitrary<Case> {
  return fc
    .record({ plugin: fc.constantFrom(...PLUGINS), command: fc.constantFrom('ADD' as const, 'DEL' as const, 'CHECK' as const), pick: fc.nat(), value: WRONG, hostile: HOSTILE, cut: fc.nat() })
    .chain(({ plugin, command, pick, value, hostile, cut }) => {
      const conf = { cniVersion: '1.0.0', name: 'fz', ...BASE[plugin], ...(command === 'CHECK' ? { prevResult: PREV } : {}) };
      const env = { CNI_COMMAND: command, CNI_CONTAINERID: 'fz1', CNI_NETNS: `/run/netns/${POD}`, CNI_IFNAME: 'eth0', CNI_PATH: CNI_BIN_DIR };
      const text = JSON.stringify(conf);
      const faults: Case[] = [
        { plugin, command, fault: 'truncated JSON', stdin: text.slice(0, cut % text.length), env, codes: [6] },
        { plugin, command, fault: 'not an object', stdin: JSON.stringify(Array.isArray(value) || typeof value !== 'object' ? value : [value]), env, codes: [6] },
        { plugin, command, fault: 'unknown cniVersion', stdin: JSON.stringify({ ...conf, cniVersion: typeof value === 'string' && /^\d+\.\d+\.\d+$/.test(value) ? '9.9.9' : value }), env, codes: [1] },
        { plugin, command, fault: 'hostile network name', stdin: JSON.stringify({ ...conf, name: NETWORK_NAME.test(hostile) ? `../${hostile}` : hostile }), env, codes: [7] },
        { plugin, command, fault: 'hostile CNI_CONTAINERID', stdin: text, env: { ...env, CNI_CONTAINERID: CONTAINER_ID.test(hostile) ? `-${hostile}` : hostile }, codes: [4] },
        { plugin, command, fault: 'hostile CNI_IFNAME', stdin: text, env: { ...env, CNI_IFNAME: isValidIfName(hostile) ? `${hostile}/x` : hostile }, codes: [4] },
        { plugin, command, fault: 'unknown CNI_COMMAND', stdin: text, env: { ...env, CNI_COMMAND: hostile === 'ADD' ? 'FROB' : hostile }, codes: [4] },
        { plugin, command, fault: 'no CNI_PATH', stdin: text, env: { ...env, CNI_PATH: undefined }, codes: [4] },
        { plugin, command, fault: 'malformed CNI_ARGS', stdin: text, env: { ...env, CNI_ARGS: `K8S_POD_NAME=a;${hostile.replace(/=/g, '')}` }, codes: [4] },
      ];
      if (command === 'ADD' && USES_HOST_LOCAL.has(plugin)) {
        // host-local keeps a directory per network: a name longer than a file name is an I/O error, before anything is made
        faults.push({ plugin, command, fault: 'huge network name', stdin: JSON.stringify({ ...conf, name: `n${'x'.repeat(300 + (cut % 100_000))}` }), env, codes: [5] });
      }
      if (command !== 'DEL' && INTERFACE_PLUGINS.has(plugin)) {
        faults.push({ plugin, command, fault: 'hostile CNI_NETNS', stdin: text, env: { ...env, CNI_NETNS: `/run/netns/${hostile}` }, codes: [3, 4] });
        faults.push({ plugin, command, fault: 'CNI_NETNS outside /run/netns', stdin: text, env: { ...env, CNI_NETNS: `/etc/${hostile}` }, codes: [4] });
      }
      for (const [path, valid] of FIELDS[plugin] ?? []) {
        if (!valid(value)) faults.push({ plugin, command, fault: `wrong ${path.join('.')}`, stdin: JSON.stringify(setPath(conf, path, value)), env, codes: [7] });
      }
      return fc.constant(faults[pick % faults.length]!);
    });
}

function invoke(c: Case): Promise<{ code: number; stdout: string; stderr: string }> {
  return execPlugin(HOST, join(CNI_BIN_DIR, c.plugin), c.env, c.stdin);
}

const allocations = (): string[] => {
  try {
    return readdirSync(DATA, { recursive: true, encoding: 'utf8' }).filter((f) => /(^|\/)\d+\.\d+\.\d+\.\d+$/.test(f));
  } catch {
    return [];
  }
};

test(`fuzzer: ${FUZZ_RUNS} hostile invocations across every plugin get the right spec error and leave nothing behind`, { timeout: Math.max(180_000, FUZZ_RUNS * 100) }, async (t) => {
  const seen = new Map<string, number>();
  const seed = Number(process.env.CNILAB_FUZZ_SEED ?? Date.now() % 2 ** 31); // CNILAB_FUZZ_SEED=N replays a run
  await fc.assert(
    fc.asyncProperty(caseArb(), async (c) => {
      const r = await invoke(c);
      const label = `${c.plugin} ${c.command} ${c.fault}`;
      seen.set(c.fault, (seen.get(c.fault) ?? 0) + 1);
      assert.notEqual(r.code, 0, `${label}: must fail, answered ${r.stdout.slice(0, 200)}`);
      assert.doesNotMatch(r.stdout + r.stderr, /\n\s+at |TypeError|ReferenceError|RangeError/, `${label}: no stack trace`);
      let body: { code?: unknown; msg?: unknown };
      try {
        body = JSON.parse(r.stdout) as typeof body;
      } catch {
        assert.fail(`${label}: stdout is not one JSON object: ${JSON.stringify(r.stdout.slice(0, 200))}`);
      }
      assert.equal(typeof body.msg, 'string', `${label}: msg`);
      assert.ok(c.codes.includes(body.code as number), `${label}: code ${String(body.code)} (${String(body.msg)}), expected one of ${c.codes.join(', ')}`);
      assert.deepEqual(allocations(), [], `${label}: no address left allocated`);
    }),
    { numRuns: FUZZ_RUNS, seed, endOnFailure: true },
  );
  assert.deepEqual(await links(HOST), hostLinksBefore, 'no link left in the host namespace');
  assert.deepEqual(await links(POD), ['lo'], 'no link left in the pod');
  t.diagnostic(`fuzzer: ${FUZZ_RUNS} cases, seed ${seed}; by fault: ${[...seen].sort().map(([f, n]) => `${f} ${n}`).join(', ')}`);
});

const list = (name: string, subnet: string): NetConfList => ({ cniVersion: '1.1.0', name, plugins: [{ type: 'bridge', bridge: `b-${name}`, isGateway: true, ipam: { type: 'host-local', subnet, dataDir: DATA } }] });
const runtime = new CniRuntime({ cniPath: [CNI_BIN_DIR], cacheDir: join(runDir(LAB), 'cache'), hostNetns: { name: HOST }, env: { PATH: process.env.PATH } });

test('100 concurrent ADDs on one network get 100 distinct addresses; 100 concurrent DELs give them all back', async () => {
  const net = list('conc', '10.85.0.0/16');
  const pods = Array.from({ length: 100 }, (_, i) => podNetns(LAB, `k${i}`));
  for (const ns of pods) await addNetns(ns);
  const rt = (i: number) => ({ containerId: `conc-${i}`, netns: `/run/netns/${pods[i]}`, ifName: 'eth0' });
  const results = await Promise.all(pods.map((_, i) => runtime.addNetworkList(net, rt(i))));
  const addrs = results.map((r) => r.ips![0]!.address);
  assert.equal(new Set(addrs).size, 100, `duplicates among ${addrs.join(' ')}`);
  for (const [i, ns] of pods.entries()) {
    const [eth0] = await ipJson<{ addr_info: { local: string; prefixlen: number }[] }[]>({ name: ns }, ['addr', 'show', 'eth0']);
    assert.equal(`${eth0!.addr_info.find((a) => !a.local.includes(':'))!.local}/16`, addrs[i], 'each pod wears the address its result names');
  }
  await Promise.all(pods.map((_, i) => runtime.delNetworkList(net, rt(i))));
  assert.deepEqual(allocations().filter((f) => f.startsWith('conc/')), []);
  assert.deepEqual(await ipJson(({ name: HOST }), ['link', 'show', 'master', 'b-conc']), []);
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
    const env = { CNI_COMMAND: 'ADD', CNI_CONTAINERID: `kill-${i}`, CNI_NETNS: `/run/netns/${ns}`, CNI_IFNAME: 'eth0', CNI_PATH: CNI_BIN_DIR };
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
  t.diagnostic(`SIGKILL: ${delays.length} ADDs killed; before GC: ${leftPorts.length} ports, ${leftAddrs.length} addresses`);

  await runtime.gcNetworkList(net, []);
  assert.deepEqual(await ipJson({ name: HOST }, ['link', 'show', 'master', 'b-kill']), [], 'GC removed every port');
  assert.deepEqual(allocations().filter((f) => f.startsWith('kill/')), [], 'GC released every address');
  for (const ns of pods) {
    assert.deepEqual(await links(ns), ['lo'], `${ns}: the container end went with the host end`);
    await deleteNetns(ns);
  }
});
