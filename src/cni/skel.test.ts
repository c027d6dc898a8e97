import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runSkel, type CniPlugin } from './skel';
import { CniError, SUPPORTED_VERSIONS, type GcAttachment, type Result } from './types';

interface Conf {
  readonly cniVersion: string;
}
const calls: string[] = [];
let lastPrev: Result | undefined;
let lastValid: readonly GcAttachment[] = [];
const plugin: CniPlugin<Conf> = {
  parseConfig: (stdin) => {
    const o = JSON.parse(stdin) as { cniVersion: string; fail?: boolean };
    if (o.fail) throw new CniError(7, 'fail: asked to');
    return { cniVersion: o.cniVersion };
  },
  add: async (conf, env) => {
    calls.push(
      `ADD ${env.containerId} ${env.ifName} ${env.netns} ${[...env.cniArgs].map(([k, v]) => `${k}=${v}`).join(',')}`,
    );
    return {
      cniVersion: conf.cniVersion,
      interfaces: [{ name: 'eth0', mtu: 1400, sandbox: env.netns }],
      ips: [{ address: '10.0.0.2/24', gateway: '10.0.0.1', interface: 0 }],
      routes: [{ dst: '0.0.0.0/0', priority: 5 }],
    };
  },
  del: async (_conf, env, prev) => {
    lastPrev = prev;
    calls.push(`DEL ${env.containerId} netns=${env.netns}`);
  },
  check: async (_conf, _env, prev) => {
    lastPrev = prev;
    calls.push('CHECK');
  },
  status: async () => {
    calls.push('STATUS');
  },
  gc: async (_conf, env, valid) => {
    lastValid = valid;
    calls.push(`GC containerId=${env.containerId}`);
  },
};

/** Every configuration needs a network name; the cases below are about other things, so it is added. */
function withName(stdin: string): string {
  try {
    const o = JSON.parse(stdin) as unknown;
    if (typeof o === 'object' && o !== null && !Array.isArray(o) && !('name' in o))
      return JSON.stringify({ ...o, name: 'net1' });
  } catch {
    /* not JSON: as it is */
  }
  return stdin;
}

async function invoke(env: Record<string, string>, raw: string): Promise<{ code: number; out: unknown }> {
  const stdin = withName(raw);
  let text = '';
  const code = await runSkel(plugin, { env, stdin, write: (t) => (text += t) });
  return { code, out: JSON.parse(text || 'null') };
}

const ENV = {
  CNI_COMMAND: 'ADD',
  CNI_CONTAINERID: 'c1',
  CNI_NETNS: '/run/netns/x',
  CNI_IFNAME: 'eth0',
  CNI_PATH: '/opt/cni/bin',
};

test('VERSION answers with every version spoken, in the current version', async () => {
  assert.deepEqual(await invoke({ CNI_COMMAND: 'VERSION' }, '{"cniVersion":"0.4.0"}'), {
    code: 0,
    out: { cniVersion: '1.1.0', supportedVersions: [...SUPPORTED_VERSIONS] },
  });
});

const addWritesTitle =
  "ADD writes the result in the configuration's version: 0.x IPs carry their family, 1.1 fields only from " + '1.1.0';
test(addWritesTitle, async () => {
  const r11 = await invoke({ ...ENV, CNI_ARGS: 'K8S_POD_NAME=a;IP=10.0.0.9' }, '{"cniVersion":"1.1.0"}');
  assert.deepEqual(r11.out, {
    cniVersion: '1.1.0',
    interfaces: [{ name: 'eth0', mtu: 1400, sandbox: '/run/netns/x' }],
    ips: [{ address: '10.0.0.2/24', gateway: '10.0.0.1', interface: 0 }],
    routes: [{ dst: '0.0.0.0/0', priority: 5 }],
  });
  assert.equal(calls.at(-1), 'ADD c1 eth0 /run/netns/x K8S_POD_NAME=a,IP=10.0.0.9');
  const r10 = await invoke(ENV, '{"cniVersion":"1.0.0"}');
  assert.deepEqual(r10.out, {
    cniVersion: '1.0.0',
    interfaces: [{ name: 'eth0', sandbox: '/run/netns/x' }],
    ips: [{ address: '10.0.0.2/24', gateway: '10.0.0.1', interface: 0 }],
    routes: [{ dst: '0.0.0.0/0' }],
  });
  for (const v of ['0.3.0', '0.3.1', '0.4.0']) {
    const r0 = await invoke(ENV, `{"cniVersion":"${v}"}`);
    assert.equal((r0.out as Result).cniVersion, v);
    assert.deepEqual((r0.out as { ips: unknown[] }).ips, [
      { version: '4', address: '10.0.0.2/24', gateway: '10.0.0.1', interface: 0 },
    ]);
  }
});

const delWithoutTitle =
  'DEL without CNI_NETNS is allowed (the namespace may be gone); prevResult of 0.4.0 reaches the plugin ' +
  'without "version"';
test(delWithoutTitle, async () => {
  const { CNI_NETNS: _, ...env } = ENV;
  const prev = { cniVersion: '0.4.0', ips: [{ version: '4', address: '10.0.0.2/24' }] };
  assert.deepEqual(
    await invoke({ ...env, CNI_COMMAND: 'DEL' }, JSON.stringify({ cniVersion: '0.4.0', prevResult: prev })),
    { code: 0, out: null },
  );
  assert.equal(calls.at(-1), 'DEL c1 netns=');
  assert.deepEqual(lastPrev, { cniVersion: '0.4.0', ips: [{ address: '10.0.0.2/24' }] });
});

test('CHECK needs 0.4.0 and a prevResult; STATUS and GC need 1.1.0 and only CNI_PATH', async () => {
  const prev = { cniVersion: '1.0.0', ips: [{ address: '10.0.0.2/24' }] };
  assert.equal(
    (await invoke({ ...ENV, CNI_COMMAND: 'CHECK' }, JSON.stringify({ cniVersion: '1.0.0', prevResult: prev }))).code,
    0,
  );
  assert.equal(calls.at(-1), 'CHECK');
  const old = await invoke({ ...ENV, CNI_COMMAND: 'CHECK' }, JSON.stringify({ cniVersion: '0.3.1', prevResult: prev }));
  assert.deepEqual([old.code, (old.out as { code: number }).code], [1, 1]);
  const noPrev = await invoke({ ...ENV, CNI_COMMAND: 'CHECK' }, '{"cniVersion":"1.0.0"}');
  assert.match((noPrev.out as { msg: string }).msg, /prevResult: is required for CHECK/);

  assert.deepEqual(await invoke({ CNI_COMMAND: 'STATUS', CNI_PATH: '/opt/cni/bin' }, '{"cniVersion":"1.1.0"}'), {
    code: 0,
    out: null,
  });
  const st = await invoke({ CNI_COMMAND: 'STATUS', CNI_PATH: '/opt/cni/bin' }, '{"cniVersion":"1.0.0"}');
  assert.equal((st.out as { code: number }).code, 1);
  const valid = [{ containerID: 'c1', ifname: 'eth0' }];
  assert.equal(
    (
      await invoke(
        { CNI_COMMAND: 'GC', CNI_PATH: '/p', CNI_CONTAINERID: 'ignored' },
        JSON.stringify({ cniVersion: '1.1.0', 'cni.dev/valid-attachments': valid }),
      )
    ).code,
    0,
  );
  assert.equal(calls.at(-1), 'GC containerId=');
  assert.deepEqual(lastValid, valid);
  const badGc = await invoke(
    { CNI_COMMAND: 'GC', CNI_PATH: '/p' },
    JSON.stringify({ cniVersion: '1.1.0', 'cni.dev/valid-attachments': [{ containerID: 1 }] }),
  );
  assert.deepEqual(
    [(badGc.out as { code: number }).code, /valid-attachments/.test((badGc.out as { msg: string }).msg)],
    [7, true],
  );
});

const errors: [string, Record<string, string>, string, number, RegExp][] = [
  [
    'unknown command',
    { ...ENV, CNI_COMMAND: 'FROB' },
    '{"cniVersion":"1.0.0"}',
    4,
    /CNI_COMMAND "FROB" is not one of ADD, DEL, CHECK, STATUS, GC, VERSION/,
  ],
  [
    'missing container ID',
    { ...ENV, CNI_CONTAINERID: '' },
    '{"cniVersion":"1.0.0"}',
    4,
    /CNI_CONTAINERID is required for ADD/,
  ],
  [
    'missing several',
    { CNI_COMMAND: 'ADD' },
    '{"cniVersion":"1.0.0"}',
    4,
    /CNI_CONTAINERID, CNI_NETNS, CNI_IFNAME, CNI_PATH are required for ADD/,
  ],
  [
    'container ID with a slash',
    { ...ENV, CNI_CONTAINERID: '../etc' },
    '{"cniVersion":"1.0.0"}',
    4,
    /CNI_CONTAINERID "..\/etc" must match/,
  ],
  [
    'interface name too long',
    { ...ENV, CNI_IFNAME: 'a-very-long-ifname' },
    '{"cniVersion":"1.0.0"}',
    4,
    /CNI_IFNAME .* not a valid interface name/,
  ],
  ['interface name with a colon', { ...ENV, CNI_IFNAME: 'eth0:1' }, '{"cniVersion":"1.0.0"}', 4, /CNI_IFNAME/],
  ['missing netns on ADD', { ...ENV, CNI_NETNS: '' }, '{"cniVersion":"1.0.0"}', 4, /CNI_NETNS is required for ADD/],
  ['malformed CNI_ARGS', { ...ENV, CNI_ARGS: 'IP' }, '{"cniVersion":"1.0.0"}', 4, /CNI_ARGS: "IP" is not KEY=VALUE/],
  ['truncated JSON', ENV, '{"cniVersion":', 6, /not JSON/],
  ['JSON that is not an object', ENV, '[1,2]', 6, /not a JSON object/],
  ['unsupported version', ENV, '{"cniVersion":"9.9.9"}', 1, /cniVersion "9.9.9" is not supported/],
  ['version 0.2.0', ENV, '{"cniVersion":"0.2.0"}', 1, /cniVersion "0.2.0" is not supported/],
  [
    'prevResult of an unknown version',
    { ...ENV, CNI_COMMAND: 'DEL' },
    '{"cniVersion":"1.0.0","prevResult":{"cniVersion":"7"}}',
    1,
    /prevResult: cniVersion "7"/,
  ],
  ['plugin config error', ENV, '{"cniVersion":"1.0.0","fail":true}', 7, /fail: asked to/],
  ['network name with a slash', ENV, '{"cniVersion":"1.0.0","name":"../x"}', 7, /name: "..\/x" is not a network name/],
  ['network name of the wrong type', ENV, '{"cniVersion":"1.0.0","name":7}', 7, /name: 7 is not a network name/],
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
