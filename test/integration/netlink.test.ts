/**
 * The netlink client against its oracle, iproute2: the same `ip` lines run by `ip -batch` in one
 * namespace and over netlink (lib/netlink) in a twin must leave the two namespaces alike — links,
 * flags, masters, aliases, hairpin, addresses and routes, the container ends included. Also: errors
 * carry the errno, a line outside the subset goes to `ip`, and opening a socket in another namespace
 * leaves this process where it was.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readlinkSync } from 'node:fs';
import { addNetns, deleteNetns, ipBatch, ipJson, type NetnsRef } from '../../src/lib/netns';
import { kernelBatch, netlinkCan } from '../../src/lib/netlink/ip-lines';
import { NetlinkError, withRtnl } from '../../src/lib/netlink/rtnl';
import { isCnilabError } from '../../src/lib/errors';
import { nodeNetns, podNetns } from '../../src/lab/names';
import { teardownLab } from '../../src/lab/teardown';
import { assertNothingLeft, rootSnapshot, type RootSnapshot } from './helpers';

const LAB = 't-nl';
const twins = {
  ip: { host: nodeNetns(LAB, 'ip'), pod: podNetns(LAB, 'ip') },
  nl: { host: nodeNetns(LAB, 'nl'), pod: podNetns(LAB, 'nl') },
};
let root: RootSnapshot;

before(async () => {
  root = await rootSnapshot();
  await teardownLab(LAB);
  for (const t of Object.values(twins)) {
    await addNetns(t.host);
    await addNetns(t.pod);
  }
});

after(async () => {
  await teardownLab(LAB);
  await assertNothingLeft(LAB, root);
});

type Lines = (pod: string) => string[][];

const hostLines: Lines = (pod) => [
  ['link', 'add', 'name', 'br0', 'address', '02:00:00:00:00:01', 'mtu', '1400', 'type', 'bridge'],
  ['link', 'set', 'dev', 'br0', 'alias', 'cni-bridge:net'],
  ['link', 'set', 'dev', 'br0', 'up'],
  (
    'link add name veth0 address 02:00:00:00:00:02 mtu 1400 type ' +
    'veth peer name eth0 address 02:00:00:00:00:03 mtu 1400 netns'
  )
    .split(' ')
    .concat(pod),
  ['link', 'set', 'dev', 'veth0', 'alias', 'cni:net:c1:eth0', 'master', 'br0'],
  ['link', 'set', 'dev', 'veth0', 'type', 'bridge_slave', 'hairpin', 'on'],
  ['link', 'set', 'dev', 'veth0', 'up'],
  ['link', 'set', 'dev', 'br0', 'promisc', 'on'],
  ['addr', 'add', '10.9.0.1/24', 'dev', 'br0'],
  ['addr', 'replace', '10.9.0.1/24', 'dev', 'br0'],
  ['addr', 'add', 'fd00::1/64', 'dev', 'br0', 'nodad'],
  ['addr', 'add', '10.9.1.1/32', 'dev', 'veth0'],
  ['route', 'add', '10.10.0.0/16', 'via', '10.9.0.254', 'dev', 'br0'],
  ['route', 'add', '10.11.0.0/16', 'dev', 'br0', 'scope', 'link', 'src', '10.9.0.1'],
  ['route', 'add', '10.9.1.2', 'dev', 'veth0', 'scope', 'host'],
  ['route', 'add', '10.13.0.0/16', 'via', '10.9.0.254', 'dev', 'br0', 'mtu', '1300'],
  ['route', 'replace', '10.14.0.0/16', 'via', '10.9.0.254', 'dev', 'br0', 'metric', '50'],
  ['route', 'add', 'fd01::/64', 'via', 'fd00::fe', 'dev', 'br0'],
  // a master and a macvlan on it, made directly in the pod (the sub-interface plugins' line)
  'link add name m0 type veth peer name m1'.split(' '),
  ['link', 'set', 'dev', 'm0', 'up'],
  'link add link m0 name mv0 address 02:00:00:00:00:04 mtu 1400 netns'
    .split(' ')
    .concat(pod, ['type', 'macvlan', 'mode', 'bridge']),
  'link add link m1 name mv1 netns'.split(' ').concat(pod, ['type', 'macvlan', 'mode', 'private']),
];
const podLines: Lines = () => [
  ['addr', 'add', '10.9.0.2/24', 'dev', 'eth0'],
  ['addr', 'add', '10.9.1.2/24', 'dev', 'eth0', 'noprefixroute'],
  ['link', 'set', 'dev', 'eth0', 'up'],
  ['route', 'add', '10.9.1.1/32', 'dev', 'eth0', 'scope', 'link', 'src', '10.9.1.2'],
  ['route', 'add', 'default', 'via', '10.9.0.1', 'dev', 'eth0'],
];
const undoLines: Lines = () => [
  ['route', 'del', '10.10.0.0/16', 'via', '10.9.0.254', 'dev', 'br0'],
  ['route', 'delete', '10.11.0.0/16'],
  ['addr', 'del', 'fd00::1/64', 'dev', 'br0'],
  ['link', 'set', 'dev', 'veth0', 'nomaster'],
  ['link', 'set', 'dev', 'br0', 'down', 'promisc', 'off'],
];

/** What `ip` shows of a namespace, without what differs between two alike ones (counters, timers, ids). */
async function state(ns: string): Promise<unknown> {
  const r: NetnsRef = { name: ns };
  const links = await ipJson<Record<string, unknown>[]>(r, ['-d', 'link', 'show']);
  const addrs = await ipJson<{ ifname: string; addr_info: Record<string, unknown>[] }[]>(r, ['addr', 'show']);
  const routes = await ipJson<Record<string, unknown>[]>(r, ['route', 'show', 'table', 'all']);
  const routes6 = await ipJson<Record<string, unknown>[]>(r, ['-6', 'route', 'show', 'table', 'all']);
  return {
    links: links.map((l) => {
      const li = l.linkinfo as
        { info_kind?: string; info_data?: { mode?: string }; info_slave_data?: { hairpin?: boolean } } | undefined;
      const mode = li?.info_kind === 'macvlan' ? li.info_data?.mode : undefined;
      // the veth m0/m1's MACs are the kernel's random ones: compare only that there is one
      const mac = /^m[01]$/.test(String(l.ifname)) || String(l.ifname) === 'mv1' ? typeof l.address : l.address;
      return [l.ifname, mac, l.mtu, l.flags, l.master, l.ifalias, li?.info_kind, mode, li?.info_slave_data?.hairpin];
    }),
    addrs: addrs.map((a) => [
      a.ifname,
      a.addr_info
        .filter((x) => x.scope !== 'link')
        .map((x) => [x.family, x.local, x.prefixlen, x.scope, x.noprefixroute, x.nodad]),
    ]),
    routes: [...routes, ...routes6]
      .filter((x) => x.dst !== 'fe80::/64' && !String(x.dst).startsWith('ff00') && x.type !== 'multicast')
      .map((x) => [x.type, x.dst, x.gateway, x.dev, x.scope, x.protocol, x.prefsrc, x.metric, x.table, x.metrics]),
  };
}

async function bothWays(lines: Lines, where: 'host' | 'pod'): Promise<void> {
  await ipBatch({ name: twins.ip[where] }, lines(twins.ip.pod));
  assert.ok(netlinkCan(lines(twins.nl.pod)), 'every line is in the netlink subset');
  await kernelBatch({ name: twins.nl[where] }, lines(twins.nl.pod));
  for (const w of ['host', 'pod'] as const)
    assert.deepEqual(await state(twins.nl[w]), await state(twins.ip[w]), `${w}: netlink did what ip does`);
}

test('links, addresses and routes made over netlink are the ones ip -batch makes', async () => {
  await bothWays(hostLines, 'host');
  await bothWays(podLines, 'pod');
});

test('deletes and changes over netlink match ip -batch', async () => {
  await bothWays(undoLines, 'host');
  await ipBatch({ name: twins.ip.host }, [['link', 'delete', 'dev', 'veth0']]);
  await kernelBatch({ name: twins.nl.host }, [['link', 'del', 'veth0']]);
  for (const w of ['host', 'pod'] as const) assert.deepEqual(await state(twins.nl[w]), await state(twins.ip[w]));
  const pod = await ipJson<{ ifname: string }[]>({ name: twins.nl.pod }, ['link', 'show']);
  assert.deepEqual(
    pod.map((l) => l.ifname),
    ['lo', 'mv0', 'mv1'],
    'the container end (eth0) went with its host end',
  );
});

test('a kernel refusal is KERNEL_FAILED naming the line and the errno', async () => {
  await assert.rejects(
    kernelBatch({ name: twins.nl.host }, [['link', 'add', 'name', 'br0', 'type', 'bridge']]),
    (e: unknown) =>
      e instanceof NetlinkError &&
      isCnilabError(e, 'KERNEL_FAILED') &&
      /^link add br0: File exists \(EEXIST\)$/.test(e.message),
  );
  await assert.rejects(
    kernelBatch({ name: twins.nl.host }, [['addr', 'add', '10.1.1.1/24', 'dev', 'nosuch0']]),
    /Device "nosuch0": No such device \(ENODEV\)/,
  );
  await assert.rejects(kernelBatch({ name: podNetns(LAB, 'gone') }, [['link', 'set', 'dev', 'lo', 'up']]), (e) =>
    isCnilabError(e, 'NOT_FOUND'),
  );
});

test('a line outside the subset runs the whole batch in ip', async () => {
  const lines = [
    ['link', 'add', 'name', 'vx0', 'type', 'vxlan', 'id', '7', 'dstport', '4789', 'nolearning'],
    ['link', 'set', 'dev', 'vx0', 'up'],
  ];
  assert.equal(netlinkCan(lines), false);
  await kernelBatch({ name: twins.nl.host }, lines);
  const [vx] = await ipJson<{ flags: string[]; linkinfo: { info_kind: string } }[]>({ name: twins.nl.host }, [
    '-d',
    'link',
    'show',
    'vx0',
  ]);
  assert.equal(vx!.linkinfo.info_kind, 'vxlan');
  assert.ok(vx!.flags.includes('UP'));
});

test('a socket opened in another namespace leaves this process in its own', () => {
  const self = readlinkSync('/proc/thread-self/ns/net');
  const lo = withRtnl({ name: twins.nl.pod }, (nl) => nl.link('lo', { addrs: true }));
  assert.equal(readlinkSync('/proc/thread-self/ns/net'), self);
  assert.equal(lo?.ifname, 'lo');
  assert.deepEqual(
    lo?.addr_info?.map((a) => `${a.local}/${a.prefixlen}`),
    ['127.0.0.1/8', '::1/128'],
  );
  assert.equal(
    withRtnl({ name: twins.nl.pod }, (nl) => nl.link('nosuch0')),
    undefined,
  );
});

test('cleanup', async () => {
  for (const t of Object.values(twins)) {
    await deleteNetns(t.host);
    await deleteNetns(t.pod);
  }
});
