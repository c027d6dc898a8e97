import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CniRuntime, listVersion, loadConfList, parseConfList, type RuntimeConf } from './runtime';
import { cnitoolContainerId, loadNetworkByName } from './conf-dir';
import { CNI_BIN_DIR } from '../lib/paths';
import { addNetns, deleteNetns } from '../lib/netns';
import { nodeNetns } from '../lab/names';
import type { CniError } from './types';

test('a configuration list is validated field by field, naming the source', () => {
  const ok = parseConfList('{"cniVersion":"1.0.0","name":"n1","plugins":[{"type":"bridge","extra":1}]}', 'x.conflist');
  assert.deepEqual(ok.plugins, [{ type: 'bridge', extra: 1 }], 'unknown fields pass through');
  const bad: [string, RegExp][] = [
    ['{"cniVersion":', /^x\.conflist: not JSON/],
    ['[]', /^x\.conflist: \(top level\) must be an object$/],
    [
      '{"cniVersion":"1.0.0","name":"bad name","plugins":[{"type":"bridge"}]}',
      /^x\.conflist: name must be a network name/,
    ],
    [
      '{"cniVersion":"9.9","name":"n","plugins":[{"type":"bridge"}]}',
      /^x\.conflist: cniVersion must be one of 0\.3\.0, 0\.3\.1, 0\.4\.0, 1\.0\.0, 1\.1\.0$/,
    ],
    ['{"cniVersion":"1.0.0","name":"n","plugins":[]}', /^x\.conflist: plugins must be a non-empty array$/],
    ['{"cniVersion":"1.0.0","name":"n","plugins":[{"mtu":1}]}', /^x\.conflist: plugins\[0\]\.type is required$/],
  ];
  for (const [text, want] of bad)
    assert.throws(
      () => parseConfList(text, 'x.conflist'),
      (e: Error) => want.test(e.message),
    );
});

test('a single .conf becomes a list of one; a missing file is named', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cnilab-conf-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, '10-n.conf');
  writeFileSync(file, '{"cniVersion":"0.4.0","name":"n","type":"macvlan","master":"eth0"}');
  assert.deepEqual(loadConfList(file), {
    cniVersion: '0.4.0',
    name: 'n',
    type: 'macvlan',
    master: 'eth0',
    plugins: [{ type: 'macvlan', master: 'eth0' }],
  });
  assert.throws(() => loadConfList(join(dir, 'absent.conflist')), /absent\.conflist: cannot read/);
});

test('cniVersions: the highest version spoken wins; none spoken is refused; cniVersion may then be left out', () => {
  const l = parseConfList(
    '{"cniVersions":["0.4.0","1.1.0","2.0.0"],"name":"n","plugins":[{"type":"static"}]}',
    'v.conflist',
  );
  assert.equal(listVersion(l), '1.1.0');
  assert.equal(l.cniVersion, '1.1.0');
  assert.throws(
    () => parseConfList('{"cniVersions":["0.2.0"],"name":"n","plugins":[{"type":"static"}]}', 'v.conflist'),
    /cniVersions has none of/,
  );
  assert.throws(
    () =>
      parseConfList(
        '{"cniVersion":"1.0.0","disableCheck":"yes","name":"n","plugins":[{"type":"static"}]}',
        'v.conflist',
      ),
    /disableCheck must be true or false/,
  );
});

test('a network is found by name in a directory: .conflist files first, then .conf and .json', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cnilab-netconf-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, '00-a.conf'), '{"cniVersion":"1.0.0","name":"net","type":"macvlan","master":"eth9"}');
  writeFileSync(join(dir, '10-b.conflist'), '{"cniVersion":"1.0.0","name":"net","plugins":[{"type":"bridge"}]}');
  writeFileSync(join(dir, '20-c.json'), '{"cniVersion":"1.0.0","name":"other","type":"ptp"}');
  assert.equal(loadNetworkByName(dir, 'net').plugins[0]!.type, 'bridge');
  assert.equal(loadNetworkByName(dir, 'other').plugins[0]!.type, 'ptp');
  assert.throws(
    () => loadNetworkByName(dir, 'nope'),
    /network "nope": no \.conflist, \.conf or \.json in .* has that name/,
  );
  assert.throws(() => loadNetworkByName(join(dir, 'absent'), 'net'), /NETCONFPATH .*absent: cannot read the directory/);
});

test('container IDs are derived from the namespace path as cnitool derives them', () => {
  // sha512("/run/netns/x"), first 10 bytes, hex — computed independently with coreutils' sha512sum.
  assert.equal(
    cnitoolContainerId('/run/netns/x'),
    `cnitool-${execFileSync('sh', ['-c', 'printf %s /run/netns/x | sha512sum'], { encoding: 'utf8' }).slice(0, 20)}`,
  );
});

/**
 * The runtime with real plugin executables that touch no kernel state (static and host-local IPAM),
 * run all the same inside a namespace of their own, as every plugin a test starts is.
 */
async function ipamRuntime(t: { after(fn: () => Promise<void>): void }) {
  const dir = mkdtempSync(join(tmpdir(), 'cnilab-rt-'));
  const ns = nodeNetns(`t-rt${process.pid}`, 'host');
  await addNetns(ns);
  t.after(async () => {
    rmSync(dir, { recursive: true, force: true });
    await deleteNetns(ns);
  });
  const runtime = new CniRuntime({
    cniPath: [CNI_BIN_DIR],
    cacheDir: join(dir, 'cache'),
    hostNetns: { name: ns },
    env: { PATH: process.env.PATH },
  });
  return { dir, runtime };
}

const rtConf = (id: string): RuntimeConf => ({
  containerId: id,
  netns: '/run/netns/none',
  ifName: 'eth0',
  args: [['K8S_POD_NAME', id]],
  capabilityArgs: { ips: ['10.9.0.7/24'] },
});

test("the cache: ADD writes libcni's entry, CHECK and DEL read it as prevResult, DEL removes it; capabilities become runtimeConfig", async (t) => {
  const { dir, runtime } = await ipamRuntime(t);
  const list = parseConfList(
    JSON.stringify({
      cniVersion: '1.1.0',
      name: 'st',
      plugins: [
        {
          type: 'static',
          capabilities: { ips: true },
          addresses: [],
          ipam: { type: 'static', addresses: [{ address: '10.9.0.1/24' }] },
        },
      ],
    }),
    'x',
  );
  const result = await runtime.addNetworkList(list, rtConf('c1'));
  assert.deepEqual(
    result,
    { cniVersion: '1.1.0', ips: [{ address: '10.9.0.7/24' }], dns: {} },
    'runtimeConfig.ips replaced the configured address',
  );
  const entry = JSON.parse(readFileSync(join(dir, 'cache', 'results', 'st-c1-eth0'), 'utf8'));
  assert.deepEqual(
    [entry.kind, entry.containerId, entry.ifName, entry.networkName, entry.netns],
    ['cniCacheV1', 'c1', 'eth0', 'st', '/run/netns/none'],
  );
  assert.deepEqual(entry.cniArgs, [['K8S_POD_NAME', 'c1']]);
  assert.deepEqual(JSON.parse(Buffer.from(entry.config, 'base64').toString()).name, 'st');
  await runtime.checkNetworkList(list, rtConf('c1'));
  await runtime.delNetworkList(list, rtConf('c1'));
  assert.equal(existsSync(join(dir, 'cache', 'results', 'st-c1-eth0')), false);
  await assert.rejects(
    runtime.checkNetworkList(list, rtConf('c1')),
    (e: CniError) => e.code === 3 && /no cached result .* ADD it first/.test(e.message),
  );
  await runtime.checkNetworkList({ ...list, disableCheck: true }, rtConf('c1')); // disableCheck: nothing is run
  await assert.rejects(
    runtime.checkNetworkList({ ...list, cniVersion: '0.3.1' }, rtConf('c1')),
    (e: CniError) => e.code === 1,
  );
});

test('a failed plugin in a chain: what the plugins before it made is deleted again', async (t) => {
  const { dir, runtime } = await ipamRuntime(t);
  const list = parseConfList(
    JSON.stringify({
      cniVersion: '1.0.0',
      name: 'ch',
      plugins: [
        { type: 'host-local', ipam: { type: 'host-local', subnet: '10.8.0.0/24', dataDir: join(dir, 'ipam') } },
        { type: 'static', ipam: { type: 'static' } },
      ],
    }),
    'x',
  );
  await assert.rejects(
    runtime.addNetworkList(list, rtConf('c2')),
    (e: CniError) => e.code === 7 && /ipam\.addresses: is required/.test(e.message),
  );
  assert.deepEqual(
    readdirSync(join(dir, 'ipam', 'ch')).filter((f) => f.startsWith('10.')),
    [],
    "host-local's address was given back",
  );
  assert.equal(existsSync(join(dir, 'cache', 'results', 'ch-c2-eth0')), false, 'nothing cached');
});

test('GC: stale cached attachments are deleted, valid ones kept, then each plugin gets GC; disableGC does nothing', async (t) => {
  const { dir, runtime } = await ipamRuntime(t);
  const list = parseConfList(
    JSON.stringify({
      cniVersion: '1.1.0',
      name: 'gcn',
      plugins: [
        { type: 'host-local', ipam: { type: 'host-local', subnet: '10.7.0.0/24', dataDir: join(dir, 'ipam') } },
      ],
    }),
    'x',
  );
  for (const id of ['a', 'b', 'c'])
    await runtime.addNetworkList(list, { containerId: id, netns: '/run/netns/none', ifName: 'eth0' });
  // held with no cache entry: only the plugin's GC finds it
  writeFileSync(join(dir, 'ipam', 'gcn', '10.7.0.200'), 'leaked\r\neth0');
  assert.deepEqual((await runtime.gcNetworkList({ ...list, disableGC: true }, [])).deleted, []);
  assert.equal(readdirSync(join(dir, 'ipam', 'gcn')).filter((f) => f.startsWith('10.')).length, 4);
  const r = await runtime.gcNetworkList(list, [{ containerID: 'b', ifname: 'eth0' }]);
  assert.deepEqual(r.deleted.map((d) => d.containerID).sort(), ['a', 'c']);
  assert.deepEqual(
    readdirSync(join(dir, 'ipam', 'gcn')).filter((f) => f.startsWith('10.')),
    ['10.7.0.3'],
  );
  assert.deepEqual(
    runtime.cachedAttachments('gcn').map((a) => a.containerId),
    ['b'],
  );
});

test('runtime input is validated before any plugin runs', async (t) => {
  const { runtime } = await ipamRuntime(t);
  const list = parseConfList('{"cniVersion":"1.0.0","name":"v","plugins":[{"type":"static"}]}', 'x');
  await assert.rejects(
    runtime.addNetworkList(list, { containerId: '-bad', netns: '/x', ifName: 'eth0' }),
    (e: CniError) => e.code === 4 && /container ID/.test(e.message),
  );
  await assert.rejects(
    runtime.addNetworkList(list, { containerId: 'ok', netns: '/x', ifName: 'eth0/1' }),
    (e: CniError) => e.code === 4 && /interface name/.test(e.message),
  );
  await assert.rejects(
    runtime.addNetworkList(list, { containerId: 'ok', netns: '/x', ifName: 'eth0', args: [['A;B', 'c']] }),
    (e: CniError) => e.code === 4,
  );
  assert.deepEqual(await runtime.versionInfo('static'), {
    cniVersion: '1.1.0',
    supportedVersions: ['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'],
  });
});
