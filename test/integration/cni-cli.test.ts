/**
 * `cnilab cni …` used as cnitool is: NETCONFPATH, CNI_PATH, CNI_ARGS, CAP_ARGS, CNI_IFNAME, the
 * container ID cnitool derives; add, check, del, status, gc, path, version; bad input as one line.
 * The CLI runs inside a lab namespace (ip netns exec), where its plugins make their links.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { addNetns, ip, ipJson } from '../../src/lib/netns';
import { spawn } from 'node:child_process';
import { run } from '../../src/lib/exec';
import { CNI_BIN_DIR } from '../../src/lib/paths';
import { nodeNetns, podNetns, runDir } from '../../src/lab/names';
import { teardownLab } from '../../src/lab/teardown';
import { cnitoolContainerId } from '../../src/cni/conf-dir';
import { assertNothingLeft, CLI, rootSnapshot, waitFor, type RootSnapshot, linkNames } from './helpers';

const LAB = 't-cnicli';
const HOST = nodeNetns(LAB, 'host');
const POD = podNetns(LAB, 'p');
const CONF_DIR = join(runDir(LAB), 'net.d');
const CACHE = join(runDir(LAB), 'cache');
const DATA = join(runDir(LAB), 'ipam');
let root: RootSnapshot;

before(async () => {
  root = await rootSnapshot();
  await teardownLab(LAB);
  await addNetns(HOST);
  await addNetns(POD);
  mkdirSync(CONF_DIR, { recursive: true });
  writeFileSync(
    join(CONF_DIR, '10-web.conflist'),
    JSON.stringify({
      cniVersion: '1.1.0',
      name: 'web',
      plugins: [
        {
          type: 'bridge',
          bridge: 'web0',
          isGateway: true,
          ipam: { type: 'host-local', subnet: '10.87.0.0/24', dataDir: DATA },
          capabilities: { ips: true },
        },
      ],
    }),
  );
  writeFileSync(
    join(CONF_DIR, '20-old.conf'),
    JSON.stringify({
      cniVersion: '0.3.1',
      name: 'old',
      type: 'ptp',
      ipam: { type: 'host-local', subnet: '10.87.1.0/24', dataDir: DATA },
    }),
  );
});

after(async () => {
  await teardownLab(LAB);
  await assertNothingLeft(LAB, root);
});

function cni(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const cache = args[0] === 'version' ? [] : ['--cache-dir', CACHE];
  return run('ip', ['netns', 'exec', HOST, process.execPath, CLI, 'cni', ...args, ...cache], {
    env: { PATH: process.env.PATH, NETCONFPATH: CONF_DIR, ...env },
    check: false,
  });
}

test("add, check, del as cnitool: the result on stdout, CAP_ARGS and CNI_ARGS reach the plugins, the container ID is cnitool's", async () => {
  const netns = `/run/netns/${POD}`;
  const add = await cni(['add', 'web', netns], {
    CAP_ARGS: '{"ips":["10.87.0.42/24"]}',
    CNI_ARGS: 'K8S_POD_NAME=p1',
    CNI_IFNAME: 'net1',
  });
  assert.equal(add.code, 0, add.stderr);
  const result = JSON.parse(add.stdout);
  assert.deepEqual(
    result.ips,
    [{ address: '10.87.0.42/24', gateway: '10.87.0.1', interface: 2 }],
    'CAP_ARGS ips became runtimeConfig.ips',
  );
  assert.equal(result.interfaces[2].name, 'net1', 'CNI_IFNAME');
  const id = cnitoolContainerId(netns);
  assert.deepEqual(readdirSync(join(CACHE, 'results')), [`web-${id}-net1`]);
  assert.equal((await cni(['check', 'web', netns], { CNI_IFNAME: 'net1' })).code, 0);
  assert.equal((await cni(['status', 'web'])).code, 0);

  const old = await cni(['add', 'old', netns, '-i', 'eth9']); // a single-plugin .conf, 0.3.1
  assert.equal(old.code, 0, old.stderr);
  assert.equal(JSON.parse(old.stdout).ips[0].version, '4');
  const check = await cni(['check', 'old', netns, '-i', 'eth9']);
  assert.deepEqual(
    [check.code, check.stderr.trim()],
    [
      1,
      'cnilab: CNI error 1 (incompatible CNI version): configuration ' +
        'version 0.3.1 does not have CHECK (0.4.0 or later)',
    ],
  );

  assert.equal((await cni(['del', 'web', netns], { CNI_IFNAME: 'net1' })).code, 0);
  assert.equal((await cni(['del', 'web', netns], { CNI_IFNAME: 'net1' })).code, 0, 'DEL again');
  assert.equal((await cni(['del', 'old', netns, '-i', 'eth9'])).code, 0);
  assert.deepEqual(await linkNames(POD), ['lo']);
});

test("doctor, run in the namespace cnilab's plugins worked in, names what they left there and how to remove it; a cni0 of unknown origin only as possibly another CNI's", async () => {
  const netns = `/run/netns/${POD}`;
  const doctor = async (): Promise<{ kind: string; name: string; owner: string; detail: string; remove: string }[]> => {
    const r = await run('ip', ['netns', 'exec', HOST, process.execPath, CLI, 'doctor', '--json'], { check: false });
    const body = JSON.parse(r.stdout) as {
      quiet: { check: string; ok: boolean; value: string; advice: string }[];
      leftovers: { kind: string; name: string; owner: string; detail: string; remove: string }[];
    };
    // The quiet-machine check rides along: five checks, each with what it found and what to do.
    assert.deepEqual(
      body.quiet.map((q) => q.check),
      ['cpu-busy', 'steal', 'busy-processes', 'load', 'frequency'],
    );
    assert.ok(body.quiet.every((q) => q.value && q.advice));
    return body.leftovers;
  };
  assert.equal((await cni(['add', 'web', netns, '-i', 'd0'])).code, 0);
  await ip({ name: HOST }, ['link', 'add', 'cni0', 'type', 'bridge']); // as the reference bridge leaves it
  try {
    const left = await doctor();
    const veth = (await ipJson<{ ifname: string }[]>({ name: HOST }, ['link', 'show', 'master', 'web0']))[0]!.ifname;
    const id = cnitoolContainerId(netns);
    assert.deepEqual(
      left.find((l) => l.name === 'web0'),
      {
        kind: 'link',
        name: 'web0',
        owner: 'cnilab',
        detail: 'bridge of CNI network web, made by a cnilab CNI plugin in this namespace (alias cni:web)',
        remove: 'ip link del web0',
      },
    );
    assert.deepEqual(
      left.find((l) => l.name === veth),
      {
        kind: 'link',
        name: veth,
        owner: 'cnilab',
        detail:
          `host end (veth) of container ${id}'s d0 on CNI network web, made by a cnilab CNI plugin in this ` +
          `namespace (alias cni:web:${id}:d0)`,
        remove: `ip link del ${veth}`,
      },
    );
    const cni0 = left.find((l) => l.name === 'cni0')!;
    assert.deepEqual([cni0.owner, cni0.remove], ['unknown', 'ip link del cni0']);
    assert.match(cni0.detail, /possibly another CNI's .* check before removing/);
    assert.ok(
      left.some((l) => l.kind === 'lab' && l.name === LAB && l.remove === `cnilab down --lab ${LAB}`),
      'the lab this test made is found by its prefix',
    );
  } finally {
    await ip({ name: HOST }, ['link', 'del', 'cni0']);
    assert.equal((await cni(['del', 'web', netns, '-i', 'd0'])).code, 0);
  }
  assert.deepEqual(
    (await doctor()).filter((l) => l.kind === 'link').map((l) => l.name),
    ['web0'],
    'after DEL only the bridge is left (DEL keeps it, as the reference does), and still named',
  );
});

test('gc deletes what is cached and not kept (all, as cnitool, or all but --valid), then GCs the plugins', async () => {
  const netns = `/run/netns/${POD}`;
  for (const ifname of ['a0', 'a1']) assert.equal((await cni(['add', 'web', netns, '-i', ifname])).code, 0);
  const id = cnitoolContainerId(netns);
  const keep = await cni(['gc', 'web', '--valid', `${id}/a1`, '--json']);
  assert.equal(keep.code, 0, keep.stderr);
  assert.deepEqual(JSON.parse(keep.stdout).deleted, [{ containerID: id, ifname: 'a0' }]);
  assert.deepEqual((await linkNames(POD)).sort(), ['a1', 'lo']);
  const all = await cni(['gc', 'web', netns]);
  assert.deepEqual([all.code, all.stderr.trim()], [0, `deleted stale attachment ${id} a1`]);
  assert.deepEqual(
    readdirSync(join(DATA, 'web')).filter((f) => /^\d/.test(f)),
    [],
  );
});

test('Ctrl-C during add: nothing left, whether it comes before the add starts or while the plugin is half-way', async (t) => {
  const netns = `/run/netns/${POD}`;
  const held = (): string[] => {
    try {
      return readdirSync(join(DATA, 'web')).filter((f) => /^\d/.test(f));
    } catch {
      return [];
    }
  };
  for (const when of ['at once', 'half-way', 'half-way', 'half-way']) {
    const child = spawn(
      'ip',
      ['netns', 'exec', HOST, process.execPath, CLI, 'cni', 'add', 'web', netns, '-i', 'int0', '--cache-dir', CACHE],
      {
        env: { PATH: process.env.PATH, NETCONFPATH: CONF_DIR },
        stdio: 'ignore',
      },
    );
    const code = new Promise<number | string | null>((resolve) => child.once('exit', (c, sig) => resolve(c ?? sig)));
    // half-way: the moment host-local has reserved the address, the bridge is yet to plug the veth
    if (when === 'half-way') await waitFor('the plugin to reserve an address', () => held().length > 0, 20_000, 2);
    child.kill('SIGINT');
    const exit = await code;
    t.diagnostic(`Ctrl-C ${when}: ${exit}`);
    if (when === 'half-way') assert.ok(exit === 130 || exit === 0, `exit ${exit}`);
    // it finished first: not what is tested
    if (exit === 0) assert.equal((await cni(['del', 'web', netns, '-i', 'int0'])).code, 0);
    assert.deepEqual(await linkNames(POD), ['lo'], `after Ctrl-C ${when}`);
    assert.deepEqual(held(), [], `after Ctrl-C ${when}`);
    assert.deepEqual(await ipJson({ name: HOST }, ['link', 'show', 'master', 'web0']), []);
  }
});

test('path and version', async () => {
  const path = await run(process.execPath, [CLI, 'cni', 'path']);
  assert.equal(path.stdout.trim(), CNI_BIN_DIR);
  // VERSION changes nothing, but a plugin runs in a lab namespace all the same (cni() runs the CLI in HOST).
  const ours = JSON.parse((await cni(['version', 'ptp'])).stdout);
  assert.deepEqual(ours.supportedVersions, ['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0']);
  const ref = JSON.parse((await cni(['version', 'ptp'], { CNI_PATH: '/usr/lib/cni' })).stdout);
  assert.ok(
    ref.supportedVersions.includes('1.0.0') && !ref.supportedVersions.includes('1.1.0'),
    'CNI_PATH chooses the implementation',
  );
});

const BAD: [string, string[], Record<string, string>, RegExp][] = [
  [
    'an unknown network',
    ['add', 'nope', '/run/netns/x'],
    {},
    /^cnilab: network "nope": no \.conflist, \.conf or \.json in .*net\.d has that name$/,
  ],
  ['CAP_ARGS that is not JSON', ['add', 'web', '/run/netns/x'], { CAP_ARGS: '{ips' }, /^cnilab: CAP_ARGS: not JSON/],
  [
    'a CNI_ARGS pair without a value',
    ['add', 'web', '/run/netns/x'],
    { CNI_ARGS: 'IP=' },
    /^cnilab: CNI_ARGS: "IP=" is not KEY=VALUE$/,
  ],
  [
    'a bad interface name',
    ['add', 'web', '/run/netns/x', '-i', 'a/b'],
    {},
    /^cnilab: CNI error 4 \(invalid environment\): interface name "a\/b" is not valid/,
  ],
  [
    'a namespace that does not exist',
    ['add', 'web', '/run/netns/cnilab-t-cnicli.none'],
    {},
    /^cnilab: CNI error 3 \(container unknown\): CNI_NETNS \/run\/netns\/cnilab-t-cnicli\.none does not exist$/,
  ],
  [
    'a --valid entry that is not CONTAINERID/IFNAME',
    ['gc', 'web', '--valid', 'x'],
    {},
    /^cnilab: --valid: "x" is not CONTAINERID\/IFNAME$/,
  ],
  [
    'a plugin not on CNI_PATH',
    ['version', 'nosuch'],
    {},
    /^cnilab: CNI error 7 \(invalid network configuration\): plugin "nosuch" not found in CNI_PATH/,
  ],
];
for (const [name, args, env, msg] of BAD) {
  test(`bad input, one line and exit 1, nothing made: ${name}`, async () => {
    const before = await ipJson<{ ifname: string }[]>({ name: HOST }, ['link', 'show']);
    const r = await cni(args, env);
    assert.equal(r.code, 1);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr.trim(), msg);
    assert.deepEqual(await ipJson({ name: HOST }, ['link', 'show']), before);
  });
}
