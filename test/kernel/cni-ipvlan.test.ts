/**
 * cnilab's `ipvlan` plugin where it departs from what the conformance suite compares: the master
 * taken from the host's default route, and chaining (the master and the addresses from prevResult,
 * no `ipam`). Needs the kernel's ipvlan: skipped with the reason without it, never in the kernel
 * tier (CNILAB_KERNEL_TIER=1).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { CniError, type NetConfList } from '../../src/cni/types';
import { deleteNetns, ip, ipJson } from '../../src/lib/netns';
import { CNI_BIN_DIR } from '../../src/lib/paths';
import { nodeNetns, runDir } from '../../src/lab/names';
import { teardownLab } from '../../src/lab/teardown';
import {
  addHostWithMaster,
  assertNothingLeft,
  rootSnapshot,
  type RootSnapshot,
  linkNames,
} from '../integration/helpers';
import { kernelSkip } from '../integration/kernel';
import { execPlugin } from '../integration/plugin-exec';
import { scratchPod, scratchRuntime, type ScratchPod } from '../integration/scratch';

const LAB = 't-ipvc';
const HOST = nodeNetns(LAB, 'host');
const dataDir = join(runDir(LAB), 'ipam');
const runtime = scratchRuntime(LAB, { env: process.env });
const ipvlanSkip = kernelSkip(['ipvlan']);
let root: RootSnapshot;

interface Link {
  ifname: string;
  mtu: number;
  address: string;
  linkinfo?: { info_kind?: string; info_data?: { mode?: string } };
  addr_info?: { family: string; local: string }[];
}

const pod = (name: string): Promise<ScratchPod> => scratchPod(LAB, name, `ctr-${name}`);

before(async () => {
  root = await rootSnapshot();
  await teardownLab(LAB);
  await addHostWithMaster(HOST);
});

after(async () => {
  await teardownLab(LAB);
  await assertNothingLeft(LAB, root);
});

test(
  "master from the host's default route: an l2 ipvlan of it, its MTU and MAC; refused naming master without one",
  { skip: ipvlanSkip },
  async () => {
    const list: NetConfList = {
      cniVersion: '1.0.0',
      name: 'ipv-net',
      plugins: [{ type: 'ipvlan', ipam: { type: 'host-local', subnet: '10.77.20.0/24', dataDir } }],
    };
    const { ns, rt } = await pod('ipv');
    await assert.rejects(
      runtime.addNetworkList(list, rt),
      (e: CniError) =>
        e.code === 7 && /^master: not given, and the host namespace has no default route/.test(e.message),
    );
    await ip({ name: HOST }, ['addr', 'add', '198.51.100.1/24', 'dev', 'up0']);
    await ip({ name: HOST }, ['route', 'add', 'default', 'via', '198.51.100.254']);
    try {
      const result = await runtime.addNetworkList(list, rt);
      const [up0] = await ipJson<Link[]>({ name: HOST }, ['link', 'show', 'up0']);
      const [eth0] = await ipJson<Link[]>({ name: ns }, ['-d', 'link', 'show', 'eth0']);
      assert.deepEqual(
        [eth0!.linkinfo?.info_kind, eth0!.linkinfo?.info_data?.mode, eth0!.mtu, eth0!.address],
        ['ipvlan', 'l2', 1500, up0!.address],
        "an l2 ipvlan of up0, with up0's MTU and MAC",
      );
      assert.equal(result.interfaces?.[0]?.mac, up0!.address, 'the result says the MAC it wears');
      await runtime.statusNetworkList({ ...list, cniVersion: '1.1.0' });
      await runtime.delNetworkList(list, rt);
    } finally {
      await ip({ name: HOST }, ['route', 'del', 'default'], { check: false });
      await ip({ name: HOST }, ['addr', 'del', '198.51.100.1/24', 'dev', 'up0']);
    }
    await deleteNetns(ns);
  },
);

test(
  "chained, without ipam: the master is prevResult's one interface, the addresses prevResult's",
  { skip: ipvlanSkip },
  async () => {
    const { ns, rt } = await pod('chained');
    const env = {
      CNI_COMMAND: 'ADD',
      CNI_CONTAINERID: 'ipv-chained',
      CNI_NETNS: rt.netns,
      CNI_IFNAME: 'net1',
      CNI_PATH: CNI_BIN_DIR,
    };
    const stdin = JSON.stringify({
      cniVersion: '1.0.0',
      name: 'ipv-chained',
      type: 'ipvlan',
      mode: 'l3',
      prevResult: { cniVersion: '1.0.0', interfaces: [{ name: 'up0' }], ips: [{ address: '10.77.21.5/24' }] },
    });
    const r = await execPlugin(HOST, join(CNI_BIN_DIR, 'ipvlan'), env, stdin);
    assert.equal(r.code, 0, r.stdout);
    const out = JSON.parse(r.stdout) as {
      interfaces: { name: string }[];
      ips: { address: string; interface: number }[];
    };
    assert.deepEqual(
      [out.interfaces.map((i) => i.name), out.ips],
      [['net1'], [{ address: '10.77.21.5/24', interface: 0 }]],
    );
    const [net1] = await ipJson<Link[]>({ name: ns }, ['-d', 'addr', 'show', 'net1']);
    assert.deepEqual(
      [net1!.linkinfo?.info_kind, (net1!.addr_info ?? []).filter((a) => a.family === 'inet').map((a) => a.local)],
      ['ipvlan', ['10.77.21.5']],
    );
    const del = await execPlugin(HOST, join(CNI_BIN_DIR, 'ipvlan'), { ...env, CNI_COMMAND: 'DEL' }, stdin);
    assert.equal(del.code, 0, del.stdout);
    assert.deepEqual(await linkNames(ns), ['lo']);
    await deleteNetns(ns);
  },
);
