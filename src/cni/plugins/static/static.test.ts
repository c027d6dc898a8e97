import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runSkel } from '../../skel';
import { staticPlugin } from './static';

async function call(
  command: string,
  conf: Record<string, unknown>,
  env: Record<string, string> = {},
): Promise<{ code: number; out: any }> {
  let text = '';
  const e = {
    CNI_COMMAND: command,
    CNI_CONTAINERID: 'c',
    CNI_NETNS: '/run/netns/x',
    CNI_IFNAME: 'eth0',
    CNI_PATH: '/x',
    ...env,
  };
  const code = await runSkel(staticPlugin, {
    env: e,
    stdin: JSON.stringify({ cniVersion: '1.0.0', name: 'n', type: 'bridge', ...conf }),
    write: (t) => (text += t),
  });
  return { code, out: text ? JSON.parse(text) : null };
}

test('static returns its addresses, routes and DNS as configured (IPv6 too)', async () => {
  const ipam = {
    type: 'static',
    addresses: [{ address: '10.10.0.1/24', gateway: '10.10.0.254' }, { address: 'fd00::1/64' }],
    routes: [{ dst: '0.0.0.0/0' }],
    dns: { nameservers: ['10.10.0.53'] },
  };
  const r = await call('ADD', { ipam });
  assert.deepEqual(r.out, {
    cniVersion: '1.0.0',
    ips: [{ address: '10.10.0.1/24', gateway: '10.10.0.254' }, { address: 'fd00::1/64' }],
    routes: [{ dst: '0.0.0.0/0' }],
    dns: { nameservers: ['10.10.0.53'] },
  });
  const old = await call('ADD', { cniVersion: '0.3.1', ipam });
  assert.deepEqual(
    old.out.ips.map((i: { version: string }) => i.version),
    ['4', '6'],
  );
  assert.equal((await call('DEL', { ipam })).code, 0);
  assert.equal((await call('CHECK', { ipam, prevResult: r.out })).code, 0);
  assert.equal((await call('CHECK', { ipam, prevResult: { cniVersion: '1.0.0', ips: [] } })).out.code, 7);
});

const addressesFromTitle =
  'addresses from the runtime replace the configured ones: runtimeConfig.ips, args.cni.ips, CNI_ARGS IP/GATEWAY';
test(addressesFromTitle, async () => {
  const ipam = { type: 'static', addresses: [{ address: '10.10.0.1/24' }] };
  assert.equal(
    (await call('ADD', { ipam, runtimeConfig: { ips: ['10.20.0.5/16'] } })).out.ips[0].address,
    '10.20.0.5/16',
  );
  assert.equal(
    (await call('ADD', { ipam, args: { cni: { ips: ['10.30.0.5/16'] } } })).out.ips[0].address,
    '10.30.0.5/16',
  );
  assert.deepEqual((await call('ADD', { ipam }, { CNI_ARGS: 'IP=10.40.0.5/24;GATEWAY=10.40.0.1' })).out.ips, [
    { address: '10.40.0.5/24', gateway: '10.40.0.1' },
  ]);
});

for (const [name, ipam, msg] of [
  ['no address', { type: 'static' }, /ipam\.addresses: is required/],
  [
    'no prefix length',
    { type: 'static', addresses: [{ address: '10.1.1.1' }] },
    /ipam\.addresses\[0\]\.address: "10\.1\.1\.1" is not an address with its prefix length/,
  ],
  [
    'bad gateway',
    { type: 'static', addresses: [{ address: '10.1.1.1/24', gateway: 'x' }] },
    /ipam\.addresses\[0\]\.gateway/,
  ],
  [
    'bad route',
    { type: 'static', addresses: [{ address: '10.1.1.1/24' }], routes: [{ dst: '10.0.0.0/99' }] },
    /ipam\.routes\[0\]\.dst/,
  ],
  [
    'bad dns',
    { type: 'static', addresses: [{ address: '10.1.1.1/24' }], dns: { nameservers: 'x' } },
    /ipam\.dns\.nameservers: must be an array of strings/,
  ],
] as const) {
  test(`static refuses ${name} with error 7 naming the field`, async () => {
    const r = await call('ADD', { ipam });
    assert.deepEqual([r.code, r.out.code], [1, 7]);
    assert.match(r.out.msg, msg);
  });
}
