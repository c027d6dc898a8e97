/**
 * WireGuard for the node agents (flannel's wireguard backend, Calico's WireGuard mode): the node's
 * key pair, kept in its state folder; its device — the kernel's where the kernel has the module,
 * else wireguard-go; and its peers, kept equal to a wanted list with `wg`.
 *
 * wireguard-go serves its configuration on a Unix socket at /var/run/wireguard/DEVICE.sock, a path
 * every node of a lab would share, each naming its device alike. So wireguard-go and every `wg`
 * that talks to it run in a mount namespace of their own where the node's folder is bound over
 * /var/run/wireguard: each node's socket lives in its own folder and goes with it.
 *
 * The private key never leaves its file (0600): it is made in this process, handed to the device
 * as a path (`wg set … private-key FILE`), and never put in an argv, an environment or a log.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CnilabError } from '../lib/errors';
import { run, type ExecResult } from '../lib/exec';
import { ip, ipJson, runIn, type NetnsRef } from '../lib/netns';

/** WireGuard's port, every design's default. */
export const WG_PORT = 51820;
/** Where wireguard-go and wg keep a device's socket: /run/wireguard, through /var/run. */
const SOCKET_DIR = '/var/run/wireguard';

export type WgImplementation = 'kernel' | 'wireguard-go';

/** A node's WireGuard key: its private half in `file`, its public half to publish. */
export interface NodeKey {
  readonly file: string;
  readonly publicKey: string;
}

/** The DER header of an X25519 private key in PKCS #8, before its 32 raw bytes. */
const X25519_PKCS8 = Buffer.from('302e020100300506032b656e04220420', 'hex');

/** The public key (base64, as wg prints it) of a base64 private key. */
export function publicKeyOf(privateKey: string): string {
  const raw = Buffer.from(privateKey.trim(), 'base64');
  if (raw.length !== 32) throw new CnilabError('INVALID_INPUT', 'a WireGuard private key is 32 bytes in base64');
  const key = createPrivateKey({ key: Buffer.concat([X25519_PKCS8, raw]), format: 'der', type: 'pkcs8' });
  const jwk = createPublicKey(key).export({ format: 'jwk' });
  return Buffer.from(jwk.x!, 'base64url').toString('base64');
}

/**
 * The node's key in `dir`/private.key: made at the node's first start (0600, the folder 0700), read
 * at every later one, so a restarted agent keeps its key. A key file others may read is refused.
 */
export function nodeKey(dir: string): NodeKey {
  const file = join(dir, 'private.key');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  if (!existsSync(file)) {
    const { privateKey } = generateKeyPairSync('x25519');
    const jwk = privateKey.export({ format: 'jwk' });
    writeFileSync(file, Buffer.from(jwk.d!, 'base64url').toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
  }
  const mode = statSync(file).mode & 0o777;
  if ((mode & 0o077) !== 0)
    throw new CnilabError(
      'INVALID_INPUT',
      `${file}: mode ${mode.toString(8).padStart(4, '0')} lets others read the WireGuard private key; ` +
        `chmod 600 it, or remove it to have a new one made`,
    );
  return { file, publicKey: publicKeyOf(readFileSync(file, 'utf8')) };
}

/** A peer as the device should hold it. */
export interface WgPeer {
  readonly publicKey: string;
  /** ADDRESS:PORT */
  readonly endpoint: string;
  readonly allowedIps: readonly string[];
}

/** A peer as `wg show DEVICE dump` reports it. */
export interface WgPeerState extends WgPeer {
  /** Seconds since the epoch of the last handshake; 0 for none yet. */
  readonly latestHandshake: number;
  readonly rxBytes: number;
  readonly txBytes: number;
}

export interface WgDeviceSpec {
  readonly name: string;
  /** The node's WireGuard folder: its key, and wireguard-go's socket. */
  readonly dir: string;
  readonly key: NodeKey;
  readonly port: number;
  readonly mtu: number;
  /** The mark the device puts on its own packets (Calico's routing rule skips them). */
  readonly fwmark?: number;
}

/** A node's WireGuard device, made or found. */
export class WgDevice {
  private constructor(
    readonly spec: WgDeviceSpec,
    readonly implementation: WgImplementation,
  ) {}

  /**
   * The device `spec.name` in this namespace, set up: made when missing — the kernel's, or
   * wireguard-go's when the kernel cannot make one — and found as it is when it exists (a
   * restarted agent keeps the device, its peers and the traffic going through them).
   */
  static async ensure(spec: WgDeviceSpec): Promise<WgDevice> {
    let impl = await implementationOf(spec.name);
    if (impl === undefined) {
      const kernel = await ip(undefined, ['link', 'add', spec.name, 'type', 'wireguard'], { check: false });
      impl = kernel.code === 0 ? 'kernel' : await startWireguardGo(spec);
    }
    const device = new WgDevice(spec, impl);
    await device.wg([
      'set',
      spec.name,
      'private-key',
      spec.key.file,
      'listen-port',
      String(spec.port),
      ...(spec.fwmark === undefined ? [] : ['fwmark', `0x${spec.fwmark.toString(16)}`]),
    ]);
    await ip(undefined, ['link', 'set', 'dev', spec.name, 'mtu', String(spec.mtu), 'up']);
    return device;
  }

  /** Runs `wg args…` against this device (for wireguard-go, in the node's mount namespace). */
  wg(args: readonly string[]): Promise<ExecResult> {
    const [command, argv] = wgCommand(this.implementation, this.spec.dir, args);
    return run(command, argv);
  }

  /** The peers the device holds now. */
  peers(): Promise<WgPeerState[]> {
    return devicePeers(undefined, this.implementation, this.spec.dir, this.spec.name);
  }

  /** Makes the device's peers exactly `wanted`: adds the new, updates the changed, removes the gone. */
  async syncPeers(wanted: readonly WgPeer[]): Promise<void> {
    const args = peerChanges(await this.peers(), wanted);
    if (args.length > 0) await this.wg(['set', this.spec.name, ...args]);
  }
}

/**
 * The argv of `wg args…` for a device of `impl` whose node keeps its WireGuard files in `dir`: for
 * wireguard-go, in a mount namespace of its own where `dir` is /var/run/wireguard.
 */
export function wgCommand(impl: WgImplementation, dir: string, args: readonly string[]): [string, string[]] {
  if (impl === 'kernel') return ['wg', [...args]];
  return [
    'unshare',
    ['--mount', '--propagation', 'slave', 'sh', '-c', `mount --bind "$0" ${SOCKET_DIR} && exec wg "$@"`, dir, ...args],
  ];
}

/**
 * The peers of `device` in namespace `ns` (here when undefined). Read from `wg show … dump`, whose
 * first line holds the private key: a failure says only wg's error, never its output.
 */
export async function devicePeers(
  ns: NetnsRef | undefined,
  impl: WgImplementation,
  dir: string,
  device: string,
): Promise<WgPeerState[]> {
  const [command, argv] = wgCommand(impl, dir, ['show', device, 'dump']);
  const r = await runIn(ns, command, argv, { check: false });
  if (r.code !== 0) throw new CnilabError('AGENT_FAILED', `wg show ${device}: ${r.stderr.trim() || `exit ${r.code}`}`);
  return parseDump(r.stdout);
}

/** The `wg set DEVICE …` arguments that turn `held` into `wanted`; none when they agree. */
export function peerChanges(held: readonly WgPeer[], wanted: readonly WgPeer[]): string[] {
  const args: string[] = [];
  const want = new Map(wanted.map((p) => [p.publicKey, p]));
  for (const p of held) if (!want.has(p.publicKey)) args.push('peer', p.publicKey, 'remove');
  const had = new Map(held.map((p) => [p.publicKey, p]));
  for (const p of wanted) {
    const h = had.get(p.publicKey);
    const ips = [...p.allowedIps].sort().join(',');
    if (h && h.endpoint === p.endpoint && [...h.allowedIps].sort().join(',') === ips) continue;
    args.push('peer', p.publicKey, 'endpoint', p.endpoint, 'allowed-ips', ips);
  }
  return args;
}

/** The peers of `wg show DEVICE dump`: its first line is the device's own (with its private key: skipped). */
export function parseDump(out: string): WgPeerState[] {
  return out
    .split('\n')
    .slice(1)
    .filter((l) => l.trim() !== '')
    .map((l) => {
      const [publicKey, , endpoint, allowed, handshake, rx, tx] = l.split('\t');
      return {
        publicKey: publicKey!,
        endpoint: endpoint === '(none)' ? '' : endpoint!,
        allowedIps: allowed === '(none)' || !allowed ? [] : allowed.split(','),
        latestHandshake: Number(handshake),
        rxBytes: Number(rx),
        txBytes: Number(tx),
      };
    });
}

/** Which implementation runs device `name` here, if it exists: a wireguard link, or wireguard-go's TUN. */
async function implementationOf(name: string): Promise<WgImplementation | undefined> {
  const links = await ipJson<{ linkinfo?: { info_kind?: string } }[]>(undefined, [
    '-d',
    'link',
    'show',
    'dev',
    name,
  ]).catch(() => []);
  if (links.length === 0) return undefined;
  const kind = links[0]!.linkinfo?.info_kind;
  if (kind === 'wireguard') return 'kernel';
  if (kind === 'tun') return 'wireguard-go';
  throw new CnilabError('AGENT_FAILED', `device ${name} exists and is a ${kind ?? 'plain'} link, not WireGuard's`);
}

/**
 * Starts wireguard-go for `spec.name`, its socket in `spec.dir`. It makes the TUN device and the
 * socket, then leaves a child serving them and exits: when this resolves, both exist.
 */
async function startWireguardGo(spec: WgDeviceSpec): Promise<WgImplementation> {
  // What wireguard-go and wg-quick make themselves: the mount point, empty on the host.
  mkdirSync(SOCKET_DIR, { recursive: true, mode: 0o755 });
  const r = await run(
    'unshare',
    [
      '--mount',
      '--propagation',
      'slave',
      'sh',
      '-c',
      `mount --bind "$0" ${SOCKET_DIR} && exec wireguard-go "$1"`,
      spec.dir,
      spec.name,
    ],
    // Without LOG_LEVEL its child's output goes to /dev/null: with it, the child would hold our pipes open.
    { check: false, env: { ...process.env, LOG_LEVEL: undefined } },
  );
  if (r.code !== 0)
    throw new CnilabError(
      'AGENT_FAILED',
      `the kernel has no WireGuard and wireguard-go did not start (${(r.stderr || r.stdout).trim().split('\n').pop()}); ` +
        'install wireguard-go and wireguard-tools (scripts/setup.sh)',
    );
  return 'wireguard-go';
}

/** The datapath a WireGuard architecture records, from the doctor's `wireguard` probe. */
export function wireguardDatapath(features: Readonly<Record<string, { readonly detail: string } | undefined>>): string {
  return features.wireguard?.detail.startsWith('kernel')
    ? 'kernel WireGuard'
    : 'wireguard-go: user-space WireGuard (TUN + UDP socket)';
}

/** What a reader must know when a run's WireGuard was wireguard-go's (ControlPlane.readerNote). */
export function wireguardGoNote(
  archs: readonly { readonly name: string; readonly datapath?: string }[],
  kernel: string,
): string | undefined {
  const go = archs.filter((a) => a.datapath?.startsWith('wireguard-go'));
  if (go.length === 0) return undefined;
  return (
    `WireGuard ran in user space (wireguard-go) for ${go.map((a) => a.name).join(', ')}: kernel ${kernel} has no ` +
    'WireGuard module. Clusters run the kernel’s WireGuard, which encrypts in the kernel’s softirq without a copy ' +
    'to user space; these rows measure wireguard-go, not what a cluster on a kernel with the module would see.'
  );
}

/**
 * The doctor's `wireguard` probe: the kernel's WireGuard (a device made in the throwaway namespace,
 * and `wg`), else wireguard-go and `wg`; what is missing names its install line.
 */
export const wireguardProbe: {
  readonly feature: string;
  probe(ns: string): Promise<{ readonly ok: boolean; readonly detail: string }>;
} = {
  feature: 'wireguard',
  async probe(ns) {
    const wg = await run('wg', ['--version'], { check: false }).catch(() => undefined);
    if (wg?.code !== 0)
      return { ok: false, detail: 'wg is not installed: apt-get install wireguard-tools (scripts/setup.sh)' };
    const kernel = await ip({ name: ns }, ['link', 'add', 'pwg', 'type', 'wireguard'], { check: false });
    if (kernel.code === 0) {
      await ip({ name: ns }, ['link', 'del', 'pwg'], { check: false });
      return { ok: true, detail: 'kernel module' };
    }
    const go = await run('wireguard-go', ['--version'], { check: false }).catch(() => undefined);
    if (go?.code !== 0)
      return {
        ok: false,
        detail:
          'the kernel has no WireGuard and wireguard-go is not installed: apt-get install wireguard-go (scripts/setup.sh)',
      };
    const version = /wireguard-go (\S+)/.exec(go.stdout)?.[1] ?? '';
    return { ok: true, detail: `wireguard-go ${version} (the kernel has no WireGuard module)` };
  },
};
