/**
 * Interop, both directions, across the process boundary the spec defines: the reference `bridge`
 * delegating IPAM to cnilab's `host-local` and `static`; cnilab's `bridge` delegating to the
 * reference `host-local`; and one attachment added through one pair and deleted through the other,
 * which only works if both host-locals keep the same on-disk store — in IPv4 and on an IPv6 range,
 * where each also CHECKs what the other added. (cnilab's runtime driving the
 * reference plugins is what cni-conformance does for every case.)
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, readdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { CniRuntime } from '../../src/cni/runtime';
import type { NetConfList } from '../../src/cni/types';
import { addNetns, deleteNetns, ipJson, runIn } from '../../src/lib/netns';
import { CNI_BIN_DIR } from '../../src/lib/paths';
import { nodeNetns, runDir } from '../../src/lab/names';
import { teardownLab } from '../../src/lab/teardown';
import { scratchPod, scratchRuntime } from './scratch';
import { assertNothingLeft, rootSnapshot, type RootSnapshot, linkNames } from './helpers';
import { isAddressFile } from './conformance';

const LAB = 't-cnii';
const HOST = nodeNetns(LAB, 'host');
const REF = '/usr/lib/cni';
let root: RootSnapshot;

/** A CNI_PATH directory holding exactly the given plugins, each a link to one implementation's file. */
function mixedPath(name: string, plugins: Record<string, string>): string {
  const dir = join(runDir(LAB), 'path', name);
  mkdirSync(dir, { recursive: true });
  for (const [type, from] of Object.entries(plugins)) symlinkSync(join(from, type), join(dir, type));
  return dir;
}

const runtimeFor = (dir: string): CniRuntime => scratchRuntime(LAB, { cniPath: [dir] });
const dataDir = (): string => join(runDir(LAB), 'ipam');
const held = (net: string): string[] => readdirSync(join(dataDir(), net)).filter(isAddressFile);

before(async () => {
  root = await rootSnapshot();
  await teardownLab(LAB);
  await addNetns(HOST);
});

after(async () => {
  await teardownLab(LAB);
  await assertNothingLeft(LAB, root);
});

async function attach(
  runtime: CniRuntime,
  list: NetConfList,
  pod: string,
): Promise<{ ns: string; rt: { containerId: string; netns: string; ifName: string } }> {
  return scratchPod(LAB, pod, `interop-${pod}`);
}

test("the reference bridge delegates IPAM to cnilab's host-local and static", async () => {
  const runtime = runtimeFor(mixedPath('ref-bridge', { bridge: REF, 'host-local': CNI_BIN_DIR, static: CNI_BIN_DIR }));
  const hl: NetConfList = {
    cniVersion: '1.0.0',
    name: 'i-hl',
    plugins: [
      {
        type: 'bridge',
        bridge: 'ibr1',
        isGateway: true,
        ipam: { type: 'host-local', ranges: [[{ subnet: '10.82.1.0/24' }]], dataDir: dataDir() },
      },
    ],
  };
  const a = await attach(runtime, hl, 'a');
  const r = await runtime.addNetworkList(hl, a.rt);
  assert.deepEqual(r.ips, [{ interface: 2, address: '10.82.1.2/24', gateway: '10.82.1.1' }]);
  assert.equal(
    readFileSync(join(dataDir(), 'i-hl', '10.82.1.2'), 'utf8'),
    'interop-a\r\neth0',
    "cnilab's host-local wrote the allocation",
  );
  await runIn({ name: a.ns }, 'ping', ['-c', '1', '-W', '2', '10.82.1.1']);
  await runtime.checkNetworkList(hl, a.rt); // the reference bridge's CHECK asks our host-local's CHECK
  await runtime.delNetworkList(hl, a.rt);
  assert.deepEqual(held('i-hl'), []);

  const st: NetConfList = {
    cniVersion: '0.4.0',
    name: 'i-st',
    plugins: [
      {
        type: 'bridge',
        bridge: 'ibr2',
        isGateway: true,
        ipam: { type: 'static', addresses: [{ address: '10.82.2.7/24', gateway: '10.82.2.1' }] },
      },
    ],
  };
  const b = await attach(runtime, st, 'b');
  const rs = await runtime.addNetworkList(st, b.rt);
  assert.deepEqual(rs.ips, [{ version: '4', interface: 2, address: '10.82.2.7/24', gateway: '10.82.2.1' }] as unknown);
  await runIn({ name: b.ns }, 'ping', ['-c', '1', '-W', '2', '10.82.2.1']);
  await runtime.delNetworkList(st, b.rt);
  await deleteNetns(a.ns);
  await deleteNetns(b.ns);
});

test("cnilab's bridge delegates IPAM to the reference host-local", async () => {
  const runtime = runtimeFor(mixedPath('our-bridge', { bridge: CNI_BIN_DIR, 'host-local': REF }));
  const list: NetConfList = {
    cniVersion: '1.0.0',
    name: 'i-ref',
    plugins: [
      {
        type: 'bridge',
        bridge: 'ibr3',
        isGateway: true,
        isDefaultGateway: true,
        ipam: {
          type: 'host-local',
          ranges: [[{ subnet: '10.82.3.0/24', rangeStart: '10.82.3.100' }]],
          dataDir: dataDir(),
        },
      },
    ],
  };
  const c = await attach(runtime, list, 'c');
  const r = await runtime.addNetworkList(list, c.rt);
  assert.deepEqual(r.ips, [{ address: '10.82.3.100/24', gateway: '10.82.3.1', interface: 2 }]);
  assert.ok(
    readdirSync(join(dataDir(), 'i-ref')).includes('lock'),
    'the reference host-local (which keeps a lock file) made the allocation',
  );
  await runIn({ name: c.ns }, 'ping', ['-c', '1', '-W', '2', '10.82.3.1']);
  await runtime.checkNetworkList(list, c.rt);
  await runtime.delNetworkList(list, c.rt);
  assert.deepEqual(held('i-ref'), []);
  await deleteNetns(c.ns);
});

test('added through one implementation, deleted through the other: the host-local stores are one format', async () => {
  const ours = runtimeFor(CNI_BIN_DIR);
  const ref = runtimeFor(REF);
  const list: NetConfList = {
    cniVersion: '1.0.0',
    name: 'i-mix',
    plugins: [
      {
        type: 'bridge',
        bridge: 'ibr4',
        isGateway: true,
        ipam: { type: 'host-local', ranges: [[{ subnet: '10.82.4.0/24' }]], dataDir: dataDir() },
      },
    ],
  };
  const d = await attach(ours, list, 'd');
  const e = await attach(ref, list, 'e');
  await ours.addNetworkList(list, d.rt);
  const re = await ref.addNetworkList(list, e.rt);
  assert.equal(re.ips![0]!.address, '10.82.4.3/24', 'the reference continued after the address cnilab reserved last');
  await ref.delNetworkList(list, d.rt); // the reference deletes what cnilab added …
  await ours.delNetworkList(list, e.rt); // … and cnilab what the reference added
  assert.deepEqual(held('i-mix'), []);
  for (const ns of [d.ns, e.ns]) assert.deepEqual(await linkNames(ns), ['lo']);
  const ports = await ipJson<{ ifname: string }[]>({ name: HOST }, ['link', 'show', 'master', 'ibr4']);
  assert.deepEqual(ports, []);
  await deleteNetns(d.ns);
  await deleteNetns(e.ns);
});

test('an IPv6 range, both ways: each implementation CHECKs and DELs what the other ADDed', async () => {
  const ours = runtimeFor(CNI_BIN_DIR);
  const ref = runtimeFor(REF);
  const list: NetConfList = {
    cniVersion: '1.0.0',
    name: 'i-v6',
    plugins: [
      {
        type: 'bridge',
        bridge: 'ibr5',
        isGateway: true,
        isDefaultGateway: true,
        ipam: {
          type: 'host-local',
          ranges: [[{ subnet: 'fd00:82:5::/64', rangeStart: 'fd00:82:5::10' }]],
          dataDir: dataDir(),
        },
      },
    ],
  };
  const f = await attach(ours, list, 'f');
  const g = await attach(ref, list, 'g');
  const rf = await ours.addNetworkList(list, f.rt);
  assert.deepEqual(rf.ips, [{ address: 'fd00:82:5::10/64', gateway: 'fd00:82:5::1', interface: 2 }]);
  const rg = await ref.addNetworkList(list, g.rt);
  assert.deepEqual(rg.ips, [{ address: 'fd00:82:5::11/64', gateway: 'fd00:82:5::1', interface: 2 }]);
  // the two pods reach each other over the one bridge (DAD is off in both containers: usable at once)
  await runIn({ name: f.ns }, 'ping', ['-c', '1', '-w', '4', 'fd00:82:5::11']);
  await ref.checkNetworkList(list, f.rt); // the reference checks what cnilab added …
  await ours.checkNetworkList(list, g.rt); // … and cnilab what the reference added
  await ref.delNetworkList(list, f.rt);
  await ours.delNetworkList(list, g.rt);
  assert.deepEqual(held('i-v6'), []);
  for (const ns of [f.ns, g.ns]) assert.deepEqual(await linkNames(ns), ['lo']);
  assert.deepEqual(await ipJson<{ ifname: string }[]>({ name: HOST }, ['link', 'show', 'master', 'ibr5']), []);
  await deleteNetns(f.ns);
  await deleteNetns(g.ns);
});
