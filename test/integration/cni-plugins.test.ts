/**
 * cnilab's CNI plugins driven by cnilab's CNI runtime in real namespaces: results, the kernel state
 * they leave, DEL, rollback of failed ADDs, and concurrent ADDs.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CniError, type NetConfList } from '../../src/cni/types';
import { deleteNetns, ip, ipJson, runIn } from '../../src/lib/netns';
import { nodeNetns, runDir } from '../../src/lab/names';
import { teardownLab } from '../../src/lab/teardown';
import { addHostWithMaster, assertNothingLeft, rootSnapshot, type RootSnapshot, linkNames } from './helpers';
import { scratchPod, scratchRuntime, type ScratchPod } from './scratch';

const LAB = 't-cni';
const HOST = nodeNetns(LAB, 'host');
const dataDir = join(runDir(LAB), 'ipam');
const runtime = scratchRuntime(LAB, { env: process.env });
let root: RootSnapshot;

const bridgeList = (subnet: string, extra: Record<string, unknown> = {}): NetConfList => ({
  cniVersion: '1.0.0',
  name: 'br-net',
  // A bridge per subnet: a bridge holding another subnet's gateway refuses a second one (the reference's rule).
  plugins: [
    {
      type: 'bridge',
      bridge: subnet === '10.77.1.0/24' ? 'cni0' : `cni${subnet.split('.')[2]}`,
      isGateway: true,
      isDefaultGateway: true,
      mtu: 1400,
      ipam: { type: 'host-local', ranges: [[{ subnet, ...extra }]], dataDir },
    },
  ],
});

const pod = (name: string): Promise<ScratchPod> => scratchPod(LAB, name, `ctr-${name}`);

interface Link {
  ifname: string;
  mtu: number;
  master?: string;
  address: string;
  linkinfo?: { info_kind?: string };
}

before(async () => {
  root = await rootSnapshot();
  await teardownLab(LAB);
  await addHostWithMaster(HOST);
});

after(async () => {
  await teardownLab(LAB);
  await assertNothingLeft(LAB, root);
});

test('bridge + host-local: result, kernel state on both sides, reachability, DEL twice', async () => {
  const { ns, rt } = await pod('a');
  const list = bridgeList('10.77.1.0/24');
  const result = await runtime.addNetworkList(list, rt);
  assert.equal(result.cniVersion, '1.0.0');
  assert.deepEqual(
    result.interfaces?.map((i) => [i.name.replace(/^veth[0-9a-f]{8}$/, 'veth*'), i.sandbox ?? null]),
    [
      ['cni0', null],
      ['veth*', null],
      ['eth0', rt.netns],
    ],
  );
  assert.deepEqual(result.ips, [{ address: '10.77.1.2/24', gateway: '10.77.1.1', interface: 2 }]);
  assert.deepEqual(result.routes, [{ dst: '0.0.0.0/0', gw: '10.77.1.1' }]);

  const [eth0] = await ipJson<Link[]>({ name: ns }, ['-d', 'link', 'show', 'eth0']);
  assert.equal(eth0!.mtu, 1400);
  assert.equal(eth0!.address, result.interfaces![2]!.mac);
  assert.equal(eth0!.linkinfo?.info_kind, 'veth');
  const routes = await ipJson<{ dst: string; gateway?: string }[]>({ name: ns }, ['route', 'show']);
  assert.ok(routes.some((r) => r.dst === 'default' && r.gateway === '10.77.1.1'));
  const hostVeth = result.interfaces![1]!.name;
  const [hv] = await ipJson<Link[]>({ name: HOST }, ['link', 'show', hostVeth]);
  assert.equal(hv!.master, 'cni0');
  assert.equal(hv!.mtu, 1400);
  const brAddrs = await ipJson<{ addr_info: { local: string; prefixlen: number }[] }[]>({ name: HOST }, [
    'addr',
    'show',
    'cni0',
  ]);
  assert.deepEqual(
    brAddrs[0]!.addr_info.filter((a) => !a.local.includes(':')).map((a) => `${a.local}/${a.prefixlen}`),
    ['10.77.1.1/24'],
  );
  await runIn({ name: ns }, 'ping', ['-c', '1', '-W', '2', '10.77.1.1']);

  await runtime.delNetworkList(list, rt);
  await runtime.delNetworkList(list, rt); // a repeated DEL succeeds
  assert.equal(
    (await ipJson<Link[]>({ name: HOST }, ['link', 'show'])).some((l) => l.ifname === hostVeth),
    false,
    'host veth removed',
  );
  assert.equal(
    (await ipJson<Link[]>({ name: ns }, ['link', 'show'])).some((l) => l.ifname === 'eth0'),
    false,
  );
  assert.deepEqual(
    readdirSync(join(dataDir, 'br-net')).filter((f) => f.startsWith('10.')),
    [],
  );
  await deleteNetns(ns);
});

test('a failing ADD (IPAM exhausted) rolls back the veth it made', async () => {
  const list = bridgeList('10.77.2.0/24', { rangeStart: '10.77.2.5', rangeEnd: '10.77.2.5' });
  const first = await pod('b1');
  await runtime.addNetworkList(list, first.rt);
  const linksBefore = (await linkNames(HOST)).sort();
  const second = await pod('b2');
  await assert.rejects(
    runtime.addNetworkList(list, second.rt),
    (e: CniError) => e.code === 101 && /no IP addresses available/.test(e.message),
  );
  assert.deepEqual((await linkNames(HOST)).sort(), linksBefore, 'no host veth left');
  assert.deepEqual(await linkNames(second.ns), ['lo']);
  await runtime.delNetworkList(list, first.rt);
  await deleteNetns(first.ns);
  await deleteNetns(second.ns);
});

test('DEL after the container namespace is gone releases the address', async () => {
  const list = bridgeList('10.77.3.0/24');
  const { ns, rt } = await pod('c');
  await runtime.addNetworkList(list, rt);
  await deleteNetns(ns);
  await runtime.delNetworkList(list, rt);
  assert.deepEqual(
    readdirSync(join(dataDir, 'br-net')).filter((f) => f.startsWith('10.77.3.')),
    [],
  );
});

test("macvlan: on the master, MTU defaults to the master's, larger is refused with nothing created", async () => {
  const list: NetConfList = {
    cniVersion: '1.0.0',
    name: 'mv-net',
    plugins: [
      {
        type: 'macvlan',
        master: 'up0',
        mode: 'bridge',
        ipam: {
          type: 'host-local',
          ranges: [[{ subnet: '10.78.0.0/16', rangeStart: '10.78.1.2', rangeEnd: '10.78.1.9' }]],
          dataDir,
        },
      },
    ],
  };
  const { ns, rt } = await pod('m');
  const result = await runtime.addNetworkList(list, rt);
  assert.deepEqual(result.ips, [{ address: '10.78.1.2/16', gateway: '10.78.0.1', interface: 0 }]);
  const [eth0] = await ipJson<Link[]>({ name: ns }, ['-d', 'link', 'show', 'eth0']);
  assert.equal(eth0!.linkinfo?.info_kind, 'macvlan');
  assert.equal(eth0!.mtu, 1500);

  const tooBig: NetConfList = { ...list, plugins: [{ ...list.plugins[0]!, mtu: 9000 }] };
  const other = await pod('m2');
  const hostLinks = (await ipJson<Link[]>({ name: HOST }, ['link', 'show'])).length;
  await assert.rejects(
    runtime.addNetworkList(tooBig, other.rt),
    (e: CniError) => e.code === 7 && /mtu: 9000 is larger than master up0's MTU 1500/.test(e.message),
  );
  assert.equal((await ipJson<Link[]>({ name: HOST }, ['link', 'show'])).length, hostLinks);
  assert.deepEqual(
    readdirSync(join(dataDir, 'mv-net')).filter((f) => f.startsWith('10.')),
    ['10.78.1.2'],
    'no address taken by the refused ADD',
  );

  await runtime.delNetworkList(list, rt);
  await runtime.delNetworkList(list, rt);
  assert.deepEqual(await linkNames(ns), ['lo']);
  await deleteNetns(ns);
  await deleteNetns(other.ns);
});

test('concurrent ADDs on one network get distinct addresses', async () => {
  const list = bridgeList('10.77.4.0/24');
  const pods = await Promise.all(Array.from({ length: 12 }, (_, i) => pod(`k${i}`)));
  const results = await Promise.all(pods.map((p) => runtime.addNetworkList(list, p.rt)));
  const addrs = results.map((r) => r.ips![0]!.address);
  assert.equal(new Set(addrs).size, pods.length, `duplicates in ${addrs.join(' ')}`);
  await Promise.all(pods.map((p) => runtime.delNetworkList(list, p.rt)));
  await Promise.all(pods.map((p) => deleteNetns(p.ns)));
});

test('errors from the runtime: unknown plugin, plugin not executable on CNI_PATH', async () => {
  const { ns, rt } = await pod('e');
  await assert.rejects(
    runtime.addNetworkList({ cniVersion: '1.0.0', name: 'x', plugins: [{ type: 'nosuch' }] }, rt),
    (e: CniError) => e.code === 7 && /plugin "nosuch" not found in CNI_PATH/.test(e.message),
  );
  await assert.rejects(
    runtime.addNetworkList({ cniVersion: '1.0.0', name: 'x', plugins: [{ type: '../bridge' }] }, rt),
    /is not a plugin name/,
  );
  await deleteNetns(ns);
});

test('flannel: delegates to bridge from subnet.env, and DEL works after the agent and its subnet.env are gone', async () => {
  const dir = join(runDir(LAB), 'flannel-node');
  mkdirSync(dir, { recursive: true });
  const subnetFile = join(dir, 'subnet.env');
  writeFileSync(
    subnetFile,
    'FLANNEL_NETWORK=10.79.0.0/16\nFLANNEL_SUBNET=10.79.5.1/24\nFLANNEL_MTU=1450\nFLANNEL_IPMASQ=false\n',
  );
  const list = (delegate: Record<string, unknown>): NetConfList => ({
    cniVersion: '1.0.0',
    name: 'fl-net',
    plugins: [
      {
        type: 'flannel',
        subnetFile,
        dataDir: join(dir, 'flannel'),
        delegate: { bridge: 'cni5', ipam: { dataDir }, ...delegate },
      },
    ],
  });
  const { ns, rt } = await pod('f');
  const result = await runtime.addNetworkList(list({ ipMasq: false }), rt);
  assert.deepEqual(result.ips, [{ address: '10.79.5.2/24', gateway: '10.79.5.1', interface: 2 }]);
  const [eth0] = await ipJson<Link[]>({ name: ns }, ['link', 'show', 'eth0']);
  assert.equal(eth0!.mtu, 1450);
  const routes = await ipJson<{ dst: string; gateway?: string }[]>({ name: ns }, ['route', 'show']);
  assert.ok(
    routes.some((r) => r.dst === '10.79.0.0/16' && r.gateway === '10.79.5.1'),
    JSON.stringify(routes),
  );
  assert.deepEqual(readdirSync(join(dir, 'flannel')), [rt.containerId], 'delegate configuration kept for DEL');
  await runtime.checkNetworkList(list({ ipMasq: false }), rt); // flannel hands CHECK to bridge, bridge to host-local
  await runtime.statusNetworkList({ ...list({ ipMasq: false }), cniVersion: '1.1.0' });

  rmSync(subnetFile); // the agent is gone
  await assert.rejects(
    runtime.statusNetworkList({ ...list({ ipMasq: false }), cniVersion: '1.1.0' }),
    (e: CniError) => e.code === 50 && /is the node agent running/.test(e.message),
  );
  await runtime.delNetworkList(list({ ipMasq: false }), rt);
  await runtime.delNetworkList(list({ ipMasq: false }), rt);
  assert.deepEqual(readdirSync(join(dir, 'flannel')), []);
  assert.deepEqual(
    readdirSync(join(dataDir, 'fl-net')).filter((f) => f.startsWith('10.')),
    [],
  );
  assert.deepEqual(await linkNames(ns), ['lo']);

  await assert.rejects(
    runtime.addNetworkList(list({ ipMasq: false }), rt),
    (e: CniError) =>
      e.code === 11 && /subnetFile .*subnet\.env: cannot read \(ENOENT\); is the node agent running\?/.test(e.message),
  );
  writeFileSync(
    subnetFile,
    'FLANNEL_NETWORK=10.79.0.0/16\nFLANNEL_SUBNET=10.79.5.1/24\nFLANNEL_MTU=1450\nFLANNEL_IPMASQ=false\n',
  );
  // FLANNEL_IPMASQ=false: the delegate masquerades what leaves the pod network, in a chain per container.
  await runtime.addNetworkList(list({}), rt);
  const nat = (await runIn({ name: HOST }, 'iptables', ['-t', 'nat', '-S'])).stdout;
  assert.match(
    nat,
    /-A POSTROUTING -s 10\.79\.5\.\d+\/32 -m comment --comment "name: \\"fl-net\\" id: \\"ctr-f\\"" -j CNI-[0-9a-f]{24}/,
  );
  // GC with no valid attachment: the runtime DELs the cached one, flannel forgets it, bridge and host-local collect
  // the rest.
  await runtime.gcNetworkList({ ...list({}), cniVersion: '1.1.0' }, []);
  assert.doesNotMatch(
    (await runIn({ name: HOST }, 'iptables', ['-t', 'nat', '-S'])).stdout,
    /CNI-/,
    'the chain and the jump are gone',
  );
  assert.deepEqual(await linkNames(ns), ['lo']);
  assert.deepEqual(
    readdirSync(join(dataDir, 'fl-net')).filter((f) => f.startsWith('10.')),
    [],
  );
  assert.deepEqual(readdirSync(join(dir, 'flannel')), []);
  await deleteNetns(ns);
});

test('STATUS: available; 51 when the bridge or the master is down (its containers cut off); 50 without the master', async () => {
  const mv = (master: string): NetConfList => ({
    cniVersion: '1.1.0',
    name: 'st-mv',
    plugins: [{ type: 'macvlan', master, ipam: { type: 'host-local', subnet: '10.77.9.0/24', dataDir } }],
  });
  await runtime.statusNetworkList(mv('up0'));
  await ip({ name: HOST }, ['link', 'set', 'up0', 'down']);
  await assert.rejects(
    runtime.statusNetworkList(mv('up0')),
    (e: CniError) => e.code === 51 && /master up0 is down/.test(e.message),
  );
  await ip({ name: HOST }, ['link', 'set', 'up0', 'up']);
  await assert.rejects(
    runtime.statusNetworkList(mv('nosuch0')),
    (e: CniError) => e.code === 50 && /master nosuch0 does not exist/.test(e.message),
  );

  const br: NetConfList = {
    cniVersion: '1.1.0',
    name: 'st-br',
    plugins: [
      {
        type: 'bridge',
        bridge: 'stbr0',
        isGateway: true,
        ipam: { type: 'host-local', subnet: '10.77.10.0/24', dataDir },
      },
    ],
  };
  await runtime.statusNetworkList(br); // no bridge yet: the first ADD makes it
  const { ns, rt } = await pod('st');
  await runtime.addNetworkList(br, rt);
  await ip({ name: HOST }, ['link', 'set', 'stbr0', 'down']);
  await assert.rejects(
    runtime.statusNetworkList(br),
    (e: CniError) => e.code === 51 && /stbr0 is down/.test(e.message),
  );
  await ip({ name: HOST }, ['link', 'set', 'stbr0', 'up']);
  await runtime.statusNetworkList(br);
  await runtime.delNetworkList(br, rt);
  await deleteNetns(ns);
});
