import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runSkel } from '../../skel';
import { hostLocalPlugin } from './host-local';

function setup(ipam: Record<string, unknown>) {
  const dir = mkdtempSync(join(tmpdir(), 'cnilab-hl-'));
  const conf = JSON.stringify({
    cniVersion: '1.0.0',
    name: 'net1',
    type: 'bridge',
    ipam: { type: 'host-local', dataDir: dir, ...ipam },
  });
  const call = async (command: string, id: string, ifName = 'eth0'): Promise<{ code: number; out: any }> => {
    let text = '';
    const env = {
      CNI_COMMAND: command,
      CNI_CONTAINERID: id,
      CNI_NETNS: '/run/netns/x',
      CNI_IFNAME: ifName,
      CNI_PATH: '/nonexistent',
    };
    const code = await runSkel(hostLocalPlugin, { env, stdin: conf, write: (t) => (text += t) });
    return { code, out: text ? JSON.parse(text) : null };
  };
  return { dir, call, done: () => rmSync(dir, { recursive: true, force: true }) };
}

test('allocates in order, skipping the gateway; records owner in the reference layout', async (t) => {
  const s = setup({ ranges: [[{ subnet: '10.1.2.0/24' }]], routes: [{ dst: '0.0.0.0/0' }] });
  t.after(s.done);
  const a = await s.call('ADD', 'ctr-a');
  assert.deepEqual(a.out, {
    cniVersion: '1.0.0',
    ips: [{ address: '10.1.2.2/24', gateway: '10.1.2.1' }],
    routes: [{ dst: '0.0.0.0/0' }],
    dns: {},
  });
  assert.equal((await s.call('ADD', 'ctr-b')).out.ips[0].address, '10.1.2.3/24');
  assert.equal(readFileSync(join(s.dir, 'net1', '10.1.2.2'), 'utf8'), 'ctr-a\r\neth0');
  assert.equal(readFileSync(join(s.dir, 'net1', 'last_reserved_ip.0'), 'utf8'), '10.1.2.3');
});

const allocationTitle =
  'one allocation per container and interface; DEL releases and is idempotent; addresses are reused round-robin';
test(allocationTitle, async (t) => {
  const s = setup({ subnet: '10.1.3.0/29' }); // legacy form: .1 gateway, .2–.6 allocatable
  t.after(s.done);
  await s.call('ADD', 'c1');
  const again = await s.call('ADD', 'c1');
  assert.equal(again.code, 1);
  assert.match(again.out.msg, /10\.1\.3\.2 is already allocated to container c1 interface eth0/);
  assert.equal(
    (await s.call('ADD', 'c1', 'net1')).out.ips[0].address,
    '10.1.3.3/29',
    'another interface of the same container',
  );
  assert.equal((await s.call('DEL', 'c1')).code, 0);
  assert.equal((await s.call('DEL', 'c1')).code, 0, 'second DEL');
  assert.deepEqual(readdirSync(join(s.dir, 'net1')).sort(), ['10.1.3.3', 'last_reserved_ip.0']);
  assert.equal(
    (await s.call('ADD', 'c2')).out.ips[0].address,
    '10.1.3.4/29',
    'continues after the last reserved address',
  );
});

test('an exhausted range is error 101 and leaves no allocation behind', async (t) => {
  const s = setup({ ranges: [[{ subnet: '10.1.4.0/24', rangeStart: '10.1.4.10', rangeEnd: '10.1.4.11' }]] });
  t.after(s.done);
  await s.call('ADD', 'x1');
  await s.call('ADD', 'x2');
  const r = await s.call('ADD', 'x3');
  assert.equal(r.out.code, 101);
  assert.match(r.out.msg, /no IP addresses available in range set 10\.1\.4\.10-10\.1\.4\.11/);
  assert.equal(readdirSync(join(s.dir, 'net1')).filter((f) => f.startsWith('10.')).length, 2);
});

test('a second range set allocates one more address; a failure in it releases the first', async (t) => {
  const s = setup({ ranges: [[{ subnet: '10.1.5.0/24' }], [{ subnet: '10.1.6.0/30' }]] });
  t.after(s.done);
  assert.deepEqual(
    (await s.call('ADD', 'y1')).out.ips.map((i: { address: string }) => i.address),
    ['10.1.5.2/24', '10.1.6.2/30'],
  );
  const r = await s.call('ADD', 'y2');
  assert.equal(r.out.code, 101);
  assert.equal(readdirSync(join(s.dir, 'net1')).includes('10.1.5.3'), false, "the first set's address was given back");
});

const invalid: [string, Record<string, unknown>, RegExp][] = [
  ['no range', {}, /ipam\.ranges: is required/],
  [
    'bad subnet',
    { ranges: [[{ subnet: '10.1.0.0/40' }]] },
    /ipam\.ranges\[0\]\[0\]\.subnet: "10\.1\.0\.0\/40" is not a CIDR/,
  ],
  [
    'start outside',
    { ranges: [[{ subnet: '10.1.0.0/24', rangeStart: '10.2.0.1' }]] },
    /rangeStart: 10\.2\.0\.1 is outside 10\.1\.0\.0\/24/,
  ],
  [
    'start after end',
    { ranges: [[{ subnet: '10.1.0.0/24', rangeStart: '10.1.0.9', rangeEnd: '10.1.0.5' }]] },
    /rangeStart: is after rangeEnd/,
  ],
  [
    'IPv6 too small',
    { ranges: [[{ subnet: 'fd00::/127' }]] },
    /\/127 is too small to allocate from: it must be \/126 or larger/,
  ],
  [
    'families mixed in a set',
    { ranges: [[{ subnet: '10.1.0.0/24' }, { subnet: 'fd00::/64' }]] },
    /ipam\.ranges\[0\]\[1\]: is of another IP family/,
  ],
  ['route without dst', { subnet: '10.1.0.0/24', routes: [{ gw: '10.1.0.1' }] }, /ipam\.routes\[0\]\.dst: is required/],
];
for (const [name, ipam, msg] of invalid) {
  test(`invalid configuration is error 7 naming the field: ${name}`, async (t) => {
    const s = setup(ipam);
    t.after(s.done);
    const r = await s.call('ADD', 'z');
    assert.equal(r.code, 1);
    assert.equal(r.out.code, 7);
    assert.match(r.out.msg, msg);
  });
}

function setupWith(ipam: Record<string, unknown>, top: Record<string, unknown> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'cnilab-hl-'));
  const base = {
    cniVersion: '1.1.0',
    name: 'net1',
    type: 'bridge',
    ipam: { type: 'host-local', dataDir: dir, ...ipam },
    ...top,
  };
  const call = async (
    command: string,
    id: string,
    extra: Record<string, unknown> = {},
    env: Record<string, string> = {},
  ): Promise<{ code: number; out: any }> => {
    let text = '';
    const e = {
      CNI_COMMAND: command,
      CNI_CONTAINERID: id,
      CNI_NETNS: '/run/netns/x',
      CNI_IFNAME: 'eth0',
      CNI_PATH: '/nonexistent',
      ...env,
    };
    const code = await runSkel(hostLocalPlugin, {
      env: e,
      stdin: JSON.stringify({ ...base, ...extra }),
      write: (t) => (text += t),
    });
    return { code, out: text ? JSON.parse(text) : null };
  };
  return { dir, call, done: () => rmSync(dir, { recursive: true, force: true }) };
}

const addressAskedTitle =
  'an address asked for (runtimeConfig.ips, args.cni.ips, ' +
  'CNI_ARGS IP) is given as asked, or the ADD fails naming it';
test(addressAskedTitle, async (t) => {
  const s = setupWith({ ranges: [[{ subnet: '10.2.0.0/24' }], [{ subnet: '10.3.0.0/24' }]] });
  t.after(s.done);
  const a = await s.call('ADD', 'r1', { runtimeConfig: { ips: ['10.2.0.50/24'] } });
  assert.deepEqual(
    a.out.ips.map((i: { address: string }) => i.address),
    ['10.2.0.50/24', '10.3.0.2/24'],
    'one set as asked, the other from the pool',
  );
  assert.equal((await s.call('ADD', 'r2', { args: { cni: { ips: ['10.3.0.9'] } } })).out.ips[1].address, '10.3.0.9/24');
  assert.equal(
    (await s.call('ADD', 'r3', {}, { CNI_ARGS: 'IgnoreUnknown=1;IP=10.2.0.60' })).out.ips[0].address,
    '10.2.0.60/24',
  );
  const taken = await s.call('ADD', 'r4', { runtimeConfig: { ips: ['10.2.0.50'] } });
  assert.deepEqual([taken.out.code, /10\.2\.0\.50 is already allocated/.test(taken.out.msg)], [101, true]);
  const outside = await s.call('ADD', 'r5', { runtimeConfig: { ips: ['192.0.2.1'] } });
  assert.deepEqual([outside.out.code, /192\.0\.2\.1 is in none of the range sets/.test(outside.out.msg)], [7, true]);
  const gw = await s.call('ADD', 'r6', { runtimeConfig: { ips: ['10.2.0.1'] } });
  assert.match(gw.out.msg, /10\.2\.0\.1 is not allocatable/, 'the gateway is reserved');
  assert.equal(
    readdirSync(join(s.dir, 'net1')).filter((f) => f.startsWith('10.')).length,
    6,
    'failed ADDs gave back what they took',
  );
});

test('CHECK: the addresses of prevResult must be held by this container and interface', async (t) => {
  const s = setupWith({ subnet: '10.4.0.0/24' });
  t.after(s.done);
  const add = await s.call('ADD', 'k1');
  assert.equal((await s.call('CHECK', 'k1', { prevResult: add.out })).code, 0);
  const other = await s.call('CHECK', 'k2', { prevResult: add.out });
  assert.deepEqual([other.out.code, /10\.4\.0\.2 is not allocated to container k2/.test(other.out.msg)], [3, true]);
  await s.call('DEL', 'k1');
  assert.equal((await s.call('CHECK', 'k1', { prevResult: add.out })).out.code, 3, 'released behind its back');
});

const gcTitle = 'GC releases every allocation not in cni.dev/valid-attachments, including one a killed ADD left empty';
test(gcTitle, async (t) => {
  const s = setupWith({ subnet: '10.5.0.0/24' });
  t.after(s.done);
  await s.call('ADD', 'g1');
  await s.call('ADD', 'g2');
  writeFileSync(join(s.dir, 'net1', '10.5.0.99'), ''); // created, never written: the plugin died between the two
  const r = await s.call('GC', '', { 'cni.dev/valid-attachments': [{ containerID: 'g2', ifname: 'eth0' }] });
  assert.equal(r.code, 0);
  assert.deepEqual(
    readdirSync(join(s.dir, 'net1')).filter((f) => f.startsWith('10.')),
    ['10.5.0.3'],
  );
});

const statusTitle =
  'STATUS: available while an address is left, 50 when the range is used up or dataDir is not writable';
test(statusTitle, async (t) => {
  const s = setupWith({ ranges: [[{ subnet: '10.6.0.0/24', rangeStart: '10.6.0.10', rangeEnd: '10.6.0.10' }]] });
  t.after(s.done);
  assert.equal((await s.call('STATUS', '')).code, 0);
  await s.call('ADD', 's1');
  const full = await s.call('STATUS', '');
  assert.deepEqual(
    [full.out.code, /no IP addresses left in range set 10\.6\.0\.10-10\.6\.0\.10/.test(full.out.msg)],
    [50, true],
  );
  const ro = await s.call('STATUS', '', {
    ipam: { type: 'host-local', subnet: '10.6.0.0/24', dataDir: '/proc/cnilab-not-writable' },
  });
  assert.equal(ro.out.code, 50);
});

test('a /8 range allocates at once (addresses are walked, not listed)', async (t) => {
  const s = setupWith({ subnet: '10.0.0.0/8' });
  t.after(s.done);
  const started = Date.now();
  assert.equal((await s.call('ADD', 'big')).out.ips[0].address, '10.0.0.2/8');
  assert.ok(Date.now() - started < 2000, `took ${Date.now() - started} ms`);
});

test('IPv6 and dual stack: one address per range set, written as the reference writes them', async (t) => {
  const s = setupWith({ ranges: [[{ subnet: '10.9.0.0/24' }], [{ subnet: 'fd00:9::/64', rangeStart: 'fd00:9::a' }]] });
  t.after(s.done);
  const a = await s.call('ADD', 'v1');
  assert.deepEqual(a.out.ips, [
    { address: '10.9.0.2/24', gateway: '10.9.0.1' },
    { address: 'fd00:9::a/64', gateway: 'fd00:9::1' },
  ]);
  assert.deepEqual(
    (await s.call('ADD', 'v2')).out.ips.map((i: { address: string }) => i.address),
    ['10.9.0.3/24', 'fd00:9::b/64'],
  );
  assert.deepEqual(readdirSync(join(s.dir, 'net1')).sort(), [
    '10.9.0.2',
    '10.9.0.3',
    'fd00:9::a',
    'fd00:9::b',
    'last_reserved_ip.0',
    'last_reserved_ip.1',
  ]);
  const old = await s.call('ADD', 'v3', { cniVersion: '0.4.0', runtimeConfig: { ips: ['fd00:9::ff:1'] } });
  assert.deepEqual(
    old.out.ips.map((i: { version: string; address: string }) => `${i.version} ${i.address}`),
    ['4 10.9.0.4/24', '6 fd00:9::ff:1/64'],
  );
  assert.equal((await s.call('CHECK', 'v3', { prevResult: old.out })).code, 0);
  await s.call('DEL', 'v1');
  assert.equal(readdirSync(join(s.dir, 'net1')).includes('fd00:9::a'), false);
});
