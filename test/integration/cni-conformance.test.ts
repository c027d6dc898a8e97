/**
 * Conformance of cnilab's plugins with the reference plugins, case by case, over every spec version
 * (the harness: conformance.ts), IPv4 (IPv6 and dual stack: cni-conformance-ipv6.test.ts). The cases
 * that need kernel modules this host may lack — vlan
 * (8021q), ipvlan — are in test/kernel/cni-conformance.test.ts, run by `npm run test:kernel`.
 *
 * Known quirks of the reference: its CHECK rejects an IPAM route without `gw` that its own ADD
 * installed via the gateway ("Expected Route … not found"), so the cases give `gw`; its bridge
 * CHECK without IPAM fails ("no plugin name provided"), which the suite asserts as such.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { CniError, type NetConfList } from '../../src/cni/types';
import { deleteNetns, ip, ipJson } from '../../src/lib/netns';
import { run } from '../../src/lib/exec';
import { conformanceSuite, hl, type Case, type Impl } from './conformance';
import { hasModule } from './kernel';
import { linkNames } from './helpers';

const LAB = 't-cnic';
const IMPLS: Impl[] = ['ours', 'ref'];

const CASES: Case[] = [
  {
    name: 'bridge: gateway, default route, MTU, hairpin, IPAM routes',
    plugin: (dir) => ({
      type: 'bridge',
      bridge: 'cbr1',
      isGateway: true,
      isDefaultGateway: true,
      mtu: 1400,
      hairpinMode: true,
      ipam: hl(dir, { ranges: [[{ subnet: '10.80.1.0/24' }]], routes: [{ dst: '10.90.0.0/16', gw: '10.80.1.1' }] }),
    }),
    ping: '10.80.1.1',
  },
  {
    name: 'bridge: layer 2 only (no IPAM), promiscuous bridge',
    plugin: () => ({ type: 'bridge', bridge: 'cbr2', promiscMode: true }),
    referenceCheckFails: /no plugin name provided/, // its CHECK delegates to an IPAM that is not there
  },
  {
    name: 'bridge + static IPAM: ipMasq, DNS, routes',
    plugin: () => ({
      type: 'bridge',
      bridge: 'cbr3',
      isGateway: true,
      ipMasq: true,
      ipam: {
        type: 'static',
        addresses: [{ address: '10.80.3.5/24', gateway: '10.80.3.1' }],
        routes: [{ dst: '0.0.0.0/0' }],
        dns: { nameservers: ['10.80.3.53'], search: ['lab'] },
      },
    }),
    ping: '10.80.3.1',
  },
  {
    name: 'bridge: macspoofchk',
    plugin: (dir) => ({
      type: 'bridge',
      bridge: 'cbr4',
      isGateway: true,
      macspoofchk: true,
      ipam: hl(dir, { subnet: '10.80.4.0/24' }),
    }),
    ping: '10.80.4.1',
  },
  {
    name: 'host-local: two range sets, rangeStart/rangeEnd, a gateway of its own',
    plugin: (dir) => ({
      type: 'bridge',
      bridge: 'cbr5',
      ipam: hl(dir, {
        ranges: [
          [{ subnet: '10.80.5.0/24', rangeStart: '10.80.5.10', rangeEnd: '10.80.5.20', gateway: '10.80.5.254' }],
          [{ subnet: '10.81.5.0/24' }],
        ],
      }),
    }),
  },
  {
    name: "macvlan: private mode, MTU below the master's",
    plugin: (dir) => ({
      type: 'macvlan',
      master: 'up0',
      mode: 'private',
      mtu: 1400,
      ipam: hl(dir, { subnet: '10.80.7.0/24' }),
    }),
  },
  {
    name: 'ptp: host end holds the gateway, /32 routes both ways',
    plugin: (dir) => ({
      type: 'ptp',
      mtu: 1300,
      ipam: hl(dir, { subnet: '10.80.8.0/24', routes: [{ dst: '0.0.0.0/0' }] }),
    }),
    ping: '10.80.8.1',
  },
];

const { runtimes, host, dataDir, newPod } = conformanceSuite(LAB, CASES);

test("CHECK fails on both when the container's address is gone, and on both when its interface is gone", async () => {
  const pods = { ours: await newPod(), ref: await newPod() };
  const list = (impl: Impl): NetConfList => ({
    cniVersion: '1.0.0',
    name: 'conf-tamper',
    plugins: [{ type: 'bridge', bridge: 'cbr6', ipam: hl(dataDir(impl), { subnet: '10.80.10.0/24' }) }],
  });
  for (const impl of IMPLS) {
    const rt = { containerId: 'tamper', netns: `/run/netns/${pods[impl]}`, ifName: 'eth0' };
    await runtimes[impl].addNetworkList(list(impl), rt);
    await ip({ name: pods[impl] }, ['addr', 'flush', 'dev', 'eth0']);
    await assert.rejects(
      runtimes[impl].checkNetworkList(list(impl), rt),
      (e: CniError) => e instanceof CniError,
      `${impl}: CHECK must see the missing address`,
    );
    await ip({ name: pods[impl] }, ['link', 'del', 'eth0']);
    await assert.rejects(
      runtimes[impl].checkNetworkList(list(impl), rt),
      (e: CniError) => e instanceof CniError,
      `${impl}: CHECK must see the missing interface`,
    );
    await runtimes[impl].delNetworkList(list(impl), rt);
  }
  const ours = await ipJson<{ ifname: string }[]>({ name: host('ours') }, ['link', 'show', 'type', 'veth']);
  assert.deepEqual(
    ours.map((l) => l.ifname).filter((n) => n.startsWith('veth')),
    [],
    'the host end went with the container end',
  );
  await deleteNetns(pods.ours);
  await deleteNetns(pods.ref);
});

/** The plugins whose device needs a kernel module: without it, ADD and STATUS fail with error 50. */
const NEEDS_MODULE = [
  { type: 'vlan', module: '8021q', extra: { vlanId: 7 }, says: /this kernel has no 802\.1Q VLAN devices/, subnet: 11 },
  {
    type: 'ipvlan',
    module: 'ipvlan',
    extra: {},
    says: /this kernel has no ipvlan devices \(module ipvlan/,
    subnet: 16,
  },
];

for (const p of NEEDS_MODULE)
  test(
    `${p.type} on a kernel without ${p.module}: error 50 with the reason, on ADD and STATUS, nothing left behind`,
    { skip: hasModule(p.module) ? `this kernel has ${p.module}: the kernel tier runs the ${p.type} cases` : false },
    async () => {
      const pod = await newPod();
      const name = `conf-no${p.type}`;
      const list: NetConfList = {
        cniVersion: '1.1.0',
        name,
        plugins: [
          { type: p.type, master: 'up0', ...p.extra, ipam: hl(dataDir('ours'), { subnet: `10.80.${p.subnet}.0/24` }) },
        ],
      };
      const rt = { containerId: `no${p.type}`, netns: `/run/netns/${pod}`, ifName: 'eth0' };
      await assert.rejects(
        runtimes.ours.addNetworkList(list, rt),
        (e: CniError) => e.code === 50 && p.says.test(e.message),
      );
      await assert.rejects(
        runtimes.ours.statusNetworkList(list),
        (e: CniError) => e.code === 50 && p.says.test(e.message),
      );
      assert.deepEqual(await linkNames(pod), ['lo']);
      assert.deepEqual(
        (await run('ls', [join(dataDir('ours'), name)])).stdout.split('\n').filter((f) => /^\d/.test(f)),
        [],
        'the address went back',
      );
      await deleteNetns(pod);
    },
  );
