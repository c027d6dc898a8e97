/**
 * The plugin fuzzer's cases (fast-check): every cnilab plugin executable given a valid configuration
 * with one hostile fault — truncated JSON, wrong types, huge values, unknown versions, path traversal
 * and shell metacharacters in names and namespace paths — and the spec error codes that fault deserves.
 */
import { join } from 'node:path';
import fc from 'fast-check';
import { CONTAINER_ID, isValidIfName, NETWORK_NAME } from '../../src/cni/skel';
import { CNI_BIN_DIR } from '../../src/lib/paths';

/** Each plugin's valid configuration, the one a case spoils. */
function base(ctx: FuzzContext): Record<string, Record<string, unknown>> {
  const hl = { type: 'host-local', subnet: '10.83.0.0/24', dataDir: ctx.dataDir };
  // nothing listens there: every case must fail before the IPAM API is asked
  const calicoIpam = { type: 'calico-ipam', url: 'http://127.0.0.1:9', node: 'fz' };
  return {
    bridge: { type: 'bridge', bridge: 'fzbr', isGateway: true, ipam: hl },
    macvlan: { type: 'macvlan', master: 'up0', ipam: hl },
    vlan: { type: 'vlan', master: 'up0', vlanId: 5, ipam: hl },
    ipvlan: { type: 'ipvlan', master: 'up0', mode: 'l2', ipam: hl },
    ptp: { type: 'ptp', ipam: hl },
    'host-local': { type: 'host-local', ipam: hl },
    static: { type: 'static', ipam: { type: 'static', addresses: [{ address: '10.83.1.5/24' }] } },
    flannel: {
      type: 'flannel',
      subnetFile: join(ctx.labDir, 'flannel', 'subnet.env'),
      dataDir: join(ctx.labDir, 'flannel', 'data'),
      delegate: { bridge: 'fzbr2', ipam: { dataDir: ctx.dataDir } },
    },
    'kuryr-cni': { type: 'kuryr-cni', daemonSocket: join(ctx.labDir, 'no-daemon.sock') },
    calico: { type: 'calico', mtu: 1400, ipam: calicoIpam },
    'calico-ipam': { type: 'calico-ipam', ipam: calicoIpam },
  };
}
const INTERFACE_PLUGINS = new Set(['bridge', 'macvlan', 'vlan', 'ipvlan', 'ptp', 'flannel', 'kuryr-cni', 'calico']);
const USES_HOST_LOCAL = new Set(['bridge', 'macvlan', 'vlan', 'ipvlan', 'ptp', 'host-local', 'flannel']);

/** Strings an attacker would try. */
const HOSTILE = fc.constantFrom(
  '../../etc/passwd',
  '..',
  '.',
  '/',
  'a/b',
  '$(reboot)',
  '`id`',
  'x;rm -rf /',
  'a b',
  'eth0\n',
  '\0',
  '-rf',
  '|cat',
  '&&true',
  "'",
  '"',
  '\\',
  '🙂',
  'a'.repeat(300),
  '',
);

/** Values of the wrong type for anything. */
const WRONG = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.integer({ min: -1e12, max: 1e12 }),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 3 }),
  HOSTILE,
);

const isInt =
  (min: number, max: number) =>
  (v: unknown): boolean =>
    Number.isInteger(v) && (v as number) >= min && (v as number) <= max;
const isIf = (v: unknown): boolean => typeof v === 'string' && isValidIfName(v);
const isBool = (v: unknown): boolean => typeof v === 'boolean';
const isPluginName = (v: unknown): boolean => typeof v === 'string' && /^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(v);
/** calico-ipam's rules: a base URL with no path, a node name. */
const isBaseUrl = (v: unknown): boolean => typeof v === 'string' && /^http:\/\/[^/\s]+$/.test(v);
const isNodeName = (v: unknown): boolean => typeof v === 'string' && /^[a-z][a-z0-9-]{0,14}$/.test(v);

/** The spec's DNS object: string lists and a string domain; other keys pass. */
const isDns = (v: unknown): boolean => {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const o = v as Record<string, unknown>;
  const list = (x: unknown): boolean => x === undefined || (Array.isArray(x) && x.every((s) => typeof s === 'string'));
  return (
    list(o.nameservers) && list(o.search) && list(o.options) && (o.domain === undefined || typeof o.domain === 'string')
  );
};

/** Per plugin, fields and what a valid value is: the fuzzer sets them to anything else. */
const FIELDS: Record<string, [string[], (v: unknown) => boolean][]> = {
  bridge: [
    [['mtu'], isInt(68, 65535)],
    [['bridge'], isIf],
    [['isGateway'], isBool],
    [['hairpinMode'], isBool],
    [['ipMasq'], isBool],
    [['ipam', 'type'], isPluginName],
  ],
  macvlan: [
    [['master'], isIf],
    [['mode'], (v) => ['bridge', 'private', 'vepa', 'passthru'].includes(v as string)],
    [['mtu'], isInt(68, 65535)],
  ],
  vlan: [
    [['vlanId'], isInt(0, 4094)],
    [['master'], isIf],
    [['mtu'], isInt(68, 65535)],
  ],
  ipvlan: [
    [['master'], isIf],
    [['mode'], (v) => ['l2', 'l3', 'l3s'].includes(v as string)],
    [['mtu'], isInt(68, 65535)],
  ],
  ptp: [
    [['mtu'], isInt(68, 65535)],
    [['ipMasq'], isBool],
  ],
  'host-local': [
    [['ipam', 'subnet'], () => false],
    [['ipam', 'dataDir'], (v) => typeof v === 'string' && v.startsWith('/')],
    [['ipam', 'routes'], (v) => Array.isArray(v) && v.length === 0],
    [['ipam', 'rangeStart'], () => false],
  ],
  static: [
    [['ipam', 'addresses'], () => false],
    [['ipam', 'routes'], (v) => Array.isArray(v) && v.length === 0],
    [['ipam', 'dns'], isDns],
  ],
  flannel: [[['delegate'], (v) => typeof v === 'object' && v !== null && !Array.isArray(v)]],
  'kuryr-cni': [[['daemonSocket'], (v) => typeof v === 'string' && v.startsWith('/')]],
  calico: [
    [['mtu'], isInt(68, 65535)],
    [['ipam', 'type'], isPluginName],
    [['ipam', 'url'], isBaseUrl],
    [['ipam', 'node'], isNodeName],
  ],
  'calico-ipam': [
    [['ipam', 'url'], isBaseUrl],
    [['ipam', 'node'], isNodeName],
    // The node's credential file: a path, never a token (docs/controller.md).
    [['ipam', 'credential'], (v) => typeof v === 'string' && v.startsWith('/')],
  ],
};

export interface FuzzCase {
  readonly plugin: string;
  readonly command: 'ADD' | 'DEL' | 'CHECK';
  readonly fault: string;
  readonly stdin: string;
  readonly env: Record<string, string | undefined>;
  /** The codes this fault deserves. */
  readonly codes: readonly number[];
}

function setPath(o: Record<string, unknown>, path: string[], v: unknown): Record<string, unknown> {
  const copy = structuredClone(o);
  let at = copy;
  for (const k of path.slice(0, -1))
    at = (at[k] = { ...(at[k] as Record<string, unknown>) }) as Record<string, unknown>;
  at[path[path.length - 1]!] = v;
  return copy;
}

/** What the plugins are given in every case: the pod, host-local's directory, the lab's folder. */
export interface FuzzContext {
  readonly pod: string;
  readonly dataDir: string;
  readonly labDir: string;
}

/** One drawing: the plugin, the command, and the raw material of its fault. */
interface Draw {
  readonly plugin: string;
  readonly command: FuzzCase['command'];
  readonly pick: number;
  readonly value: unknown;
  readonly hostile: string;
  readonly cut: number;
}

type Make = (fault: string, stdin: string, env: FuzzCase['env'], codes: number[]) => FuzzCase;

/** Faults of the configuration text itself: its JSON, its version, its network name. */
function textFaults(d: Draw, conf: Record<string, unknown>, env: FuzzCase['env'], mk: Make): FuzzCase[] {
  const text = JSON.stringify(conf);
  const { value, hostile } = d;
  const version = typeof value === 'string' && /^\d+\.\d+\.\d+$/.test(value) ? '9.9.9' : value;
  const faults = [
    mk('truncated JSON', text.slice(0, d.cut % text.length), env, [6]),
    mk('not an object', JSON.stringify(Array.isArray(value) || typeof value !== 'object' ? value : [value]), env, [6]),
    mk('unknown cniVersion', JSON.stringify({ ...conf, cniVersion: version }), env, [1]),
    mk(
      'hostile network name',
      JSON.stringify({ ...conf, name: NETWORK_NAME.test(hostile) ? `../${hostile}` : hostile }),
      env,
      [7],
    ),
  ];
  if (d.command === 'ADD' && USES_HOST_LOCAL.has(d.plugin)) {
    // host-local keeps a directory per network: a name longer than a file name is an I/O error, before anything is made
    faults.push(
      mk('huge network name', JSON.stringify({ ...conf, name: `n${'x'.repeat(300 + (d.cut % 100_000))}` }), env, [5]),
    );
  }
  return faults;
}

/** Faults of the environment: hostile CNI_* values, a missing CNI_PATH, a namespace outside /run/netns. */
function envFaults(d: Draw, text: string, env: FuzzCase['env'], mk: Make): FuzzCase[] {
  const { hostile } = d;
  const faults = [
    mk(
      'hostile CNI_CONTAINERID',
      text,
      { ...env, CNI_CONTAINERID: CONTAINER_ID.test(hostile) ? `-${hostile}` : hostile },
      [4],
    ),
    mk('hostile CNI_IFNAME', text, { ...env, CNI_IFNAME: isValidIfName(hostile) ? `${hostile}/x` : hostile }, [4]),
    mk('unknown CNI_COMMAND', text, { ...env, CNI_COMMAND: hostile === 'ADD' ? 'FROB' : hostile }, [4]),
    mk('no CNI_PATH', text, { ...env, CNI_PATH: undefined }, [4]),
    mk('malformed CNI_ARGS', text, { ...env, CNI_ARGS: `K8S_POD_NAME=a;${hostile.replace(/=/g, '')}` }, [4]),
  ];
  if (d.command !== 'DEL' && INTERFACE_PLUGINS.has(d.plugin)) {
    faults.push(mk('hostile CNI_NETNS', text, { ...env, CNI_NETNS: `/run/netns/${hostile}` }, [3, 4]));
    faults.push(mk('CNI_NETNS outside /run/netns', text, { ...env, CNI_NETNS: `/etc/${hostile}` }, [4]));
  }
  return faults;
}

/** The hostile cases of `ctx`'s plugins: each a valid configuration with one fault in stdin or the environment. */
export function fuzzCases(ctx: FuzzContext): { arbitrary(): fc.Arbitrary<FuzzCase> } {
  const configs = base(ctx);
  const prev = {
    cniVersion: '1.0.0',
    interfaces: [{ name: 'eth0', sandbox: `/run/netns/${ctx.pod}` }],
    ips: [{ address: '10.83.0.2/24', interface: 0 }],
  };
  const faultsOf = (d: Draw): FuzzCase[] => {
    const conf = {
      cniVersion: '1.0.0',
      name: 'fz',
      ...configs[d.plugin],
      ...(d.command === 'CHECK' ? { prevResult: prev } : {}),
    };
    const env = {
      CNI_COMMAND: d.command,
      CNI_CONTAINERID: 'fz1',
      CNI_NETNS: `/run/netns/${ctx.pod}`,
      CNI_IFNAME: 'eth0',
      CNI_PATH: CNI_BIN_DIR,
    };
    const mk: Make = (fault, stdin, e, codes) => ({
      plugin: d.plugin,
      command: d.command,
      fault,
      stdin,
      env: e,
      codes,
    });
    const fields = (FIELDS[d.plugin] ?? []).filter(([, valid]) => !valid(d.value));
    return [
      ...textFaults(d, conf, env, mk),
      ...envFaults(d, JSON.stringify(conf), env, mk),
      ...fields.map(([path]) => mk(`wrong ${path.join('.')}`, JSON.stringify(setPath(conf, path, d.value)), env, [7])),
    ];
  };
  const draw = fc.record({
    plugin: fc.constantFrom(...Object.keys(configs)),
    command: fc.constantFrom('ADD' as const, 'DEL' as const, 'CHECK' as const),
    pick: fc.nat(),
    value: WRONG,
    hostile: HOSTILE,
    cut: fc.nat(),
  });
  return {
    arbitrary: () =>
      draw.map((d) => {
        const f = faultsOf(d);
        return f[d.pick % f.length]!;
      }),
  };
}
