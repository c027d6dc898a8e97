import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runSkel, type CniPlugin } from './skel';
import { CniError, SUPPORTED_VERSIONS } from './types';

interface Conf {
  readonly cniVersion: string;
}
const calls: string[] = [];
const plugin: CniPlugin<Conf> = {
  parseConfig: (stdin) => {
    const o = JSON.parse(stdin) as { cniVersion: string; fail?: boolean };
    if (o.fail) throw new CniError(7, 'fail: asked to');
    return { cniVersion: o.cniVersion };
  },
  add: async (conf, env) => {
    calls.push(`ADD ${env.containerId} ${env.ifName} ${env.netns}`);
    return { cniVersion: conf.cniVersion, ips: [{ address: '10.0.0.2/24', gateway: '10.0.0.1' }] };
  },
  del: async (_conf, env) => {
    calls.push(`DEL ${env.containerId} netns=${env.netns}`);
  },
};

async function invoke(env: Record<string, string>, stdin: string): Promise<{ code: number; out: unknown }> {
  let text = '';
  const code = await runSkel(plugin, { env, stdin, write: (t) => (text += t) });
  return { code, out: JSON.parse(text || 'null') };
}

const ENV = { CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'c1', CNI_NETNS: '/run/netns/x', CNI_IFNAME: 'eth0', CNI_PATH: '/opt/cni/bin' };

test('VERSION answers with the versions supported, echoing the requested cniVersion', async () => {
  assert.deepEqual(await invoke({ CNI_COMMAND: 'VERSION' }, '{"cniVersion":"0.4.0"}'), { code: 0, out: { cniVersion: '0.4.0', supportedVersions: [...SUPPORTED_VERSIONS] } });
});

test('ADD writes the result in the requested version; 0.x results carry the IP version', async () => {
  const r1 = await invoke(ENV, '{"cniVersion":"1.0.0"}');
  assert.deepEqual(r1, { code: 0, out: { cniVersion: '1.0.0', ips: [{ address: '10.0.0.2/24', gateway: '10.0.0.1' }] } });
  const r0 = await invoke(ENV, '{"cniVersion":"0.3.1"}');
  assert.deepEqual((r0.out as { ips: unknown[] }).ips, [{ version: '4', address: '10.0.0.2/24', gateway: '10.0.0.1' }]);
  assert.equal(calls.at(-1), 'ADD c1 eth0 /run/netns/x');
});

test('DEL without CNI_NETNS is allowed (the namespace may be gone)', async () => {
  const { CNI_NETNS: _, ...env } = ENV;
  assert.deepEqual(await invoke({ ...env, CNI_COMMAND: 'DEL' }, '{"cniVersion":"1.0.0"}'), { code: 0, out: null });
  assert.equal(calls.at(-1), 'DEL c1 netns=');
});

const errors: [string, Record<string, string>, string, number, RegExp][] = [
  ['unknown command', { ...ENV, CNI_COMMAND: 'FROB' }, '{"cniVersion":"1.0.0"}', 4, /CNI_COMMAND "FROB" is not supported/],
  ['missing container ID', { ...ENV, CNI_CONTAINERID: '' }, '{"cniVersion":"1.0.0"}', 4, /CNI_CONTAINERID is required/],
  ['container ID with a slash', { ...ENV, CNI_CONTAINERID: '../etc' }, '{"cniVersion":"1.0.0"}', 4, /CNI_CONTAINERID "..\/etc" must match/],
  ['interface name too long', { ...ENV, CNI_IFNAME: 'a-very-long-ifname' }, '{"cniVersion":"1.0.0"}', 4, /CNI_IFNAME .* not a valid interface name/],
  ['missing netns on ADD', { ...ENV, CNI_NETNS: '' }, '{"cniVersion":"1.0.0"}', 4, /CNI_NETNS is required for ADD/],
  ['truncated JSON', ENV, '{"cniVersion":', 6, /not JSON/],
  ['unsupported version', ENV, '{"cniVersion":"9.9.9"}', 1, /cniVersion "9.9.9" is not supported/],
  ['plugin config error', ENV, '{"cniVersion":"1.0.0","fail":true}', 7, /fail: asked to/],
];

for (const [name, env, stdin, code, msg] of errors) {
  test(`error JSON with code ${code}: ${name}`, async () => {
    const r = await invoke(env, stdin);
    assert.equal(r.code, 1);
    const body = r.out as { code: number; msg: string; cniVersion: string };
    assert.equal(body.code, code);
    assert.match(body.msg, msg);
    assert.equal(typeof body.cniVersion, 'string');
  });
}
