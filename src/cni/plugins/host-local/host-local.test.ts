import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runSkel } from '../../skel';
import { hostLocalPlugin } from './host-local';

function setup(ipam: Record<string, unknown>) {
  const dir = mkdtempSync(join(tmpdir(), 'cnilab-hl-'));
  const conf = JSON.stringify({ cniVersion: '1.0.0', name: 'net1', type: 'bridge', ipam: { type: 'host-local', dataDir: dir, ...ipam } });
  const call = async (command: string, id: string, ifName = 'eth0'): Promise<{ code: number; out: any }> => {
    let text = '';
    const env = { CNI_COMMAND: command, CNI_CONTAINERID: id, CNI_NETNS: '/run/netns/x', CNI_IFNAME: ifName, CNI_PATH: '/nonexistent' };
    const code = await runSkel(hostLocalPlugin, { env, stdin: conf, write: (t) => (text += t) });
    return { code, out: text ? JSON.parse(text) : null };
  };
  return { dir, call, done: () => rmSync(dir, { recursive: true, force: true }) };
}

test('allocates in order, skipping the gateway; records owner in the reference layout', async (t) => {
  const s = setup({ ranges: [[{ subnet: '10.1.2.0/24' }]], routes: [{ dst: '0.0.0.0/0' }] });
  t.after(s.done);
  const a = await s.call('ADD', 'ctr-a');
  assert.deepEqual(a.out, { cniVersion: '1.0.0', ips: [{ address: '10.1.2.2/24', gateway: '10.1.2.1' }], routes: [{ dst: '0.0.0.0/0' }], dns: {} });
  assert.equal((await s.call('ADD', 'ctr-b')).out.ips[0].address, '10.1.2.3/24');
  assert.equal(readFileSync(join(s.dir, 'net1', '10.1.2.2'), 'utf8'), 'ctr-a\r\neth0');
  assert.equal(readFileSync(join(s.dir, 'net1', 'last_reserved_ip.0'), 'utf8'), '10.1.2.3');
});

test('one allocation per container and interface; DEL releases and is idempotent; addresses are reused round-robin', async (t) => {
  const s = setup({ subnet: '10.1.3.0/29' }); // legacy form: .1 gateway, .2–.6 allocatable
  t.after(s.done);
  await s.call('ADD', 'c1');
  const again = await s.call('ADD', 'c1');
  assert.equal(again.code, 1);
  assert.match(again.out.msg, /10\.1\.3\.2 is already allocated to container c1 interface eth0/);
  assert.equal((await s.call('ADD', 'c1', 'net1')).out.ips[0].address, '10.1.3.3/29', 'another interface of the same container');
  assert.equal((await s.call('DEL', 'c1')).code, 0);
  assert.equal((await s.call('DEL', 'c1')).code, 0, 'second DEL');
  assert.deepEqual(readdirSync(join(s.dir, 'net1')).sort(), ['10.1.3.3', 'last_reserved_ip.0']);
  assert.equal((await s.call('ADD', 'c2')).out.ips[0].address, '10.1.3.4/29', 'continues after the last reserved address');
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
  assert.deepEqual((await s.call('ADD', 'y1')).out.ips.map((i: { address: string }) => i.address), ['10.1.5.2/24', '10.1.6.2/30']);
  const r = await s.call('ADD', 'y2');
  assert.equal(r.out.code, 101);
  assert.equal(readdirSync(join(s.dir, 'net1')).includes('10.1.5.3'), false, 'the first set\'s address was given back');
});

const invalid: [string, Record<string, unknown>, RegExp][] = [
  ['no range', {}, /ipam\.ranges: is required/],
  ['bad subnet', { ranges: [[{ subnet: '10.1.0.0/40' }]] }, /ipam\.ranges\[0\]\[0\]\.subnet: .* not an IPv4 CIDR/],
  ['start outside', { ranges: [[{ subnet: '10.1.0.0/24', rangeStart: '10.2.0.1' }]] }, /rangeStart: 10\.2\.0\.1 is outside 10\.1\.0\.0\/24/],
  ['start after end', { ranges: [[{ subnet: '10.1.0.0/24', rangeStart: '10.1.0.9', rangeEnd: '10.1.0.5' }]] }, /rangeStart: is after rangeEnd/],
  ['IPv6', { ranges: [[{ subnet: 'fd00::/64' }]] }, /not an IPv4 CIDR|IPv6/],
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
