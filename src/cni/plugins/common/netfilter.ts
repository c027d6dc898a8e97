/**
 * Netfilter state the plugins own, one piece per container so DEL and GC can find it again:
 * - ipMasq: an iptables nat chain CNI-<hash> per container (the reference plugins' scheme), jumped
 *   to from POSTROUTING for the container's addresses;
 * - macspoofchk: an nftables chain cni-br-iface-<hash> in table `bridge nat`, jumped to from
 *   PREROUTING for the container's host-side port, dropping frames with another source MAC.
 * Each is written in one iptables-restore / nft -f transaction.
 */
import { run } from '../../../lib/exec';
import { formatCidr, parseCidr } from '../../../lib/ip';
import { CniCode, CniError, type GcAttachment, type ResultIp } from '../../types';

function hash(...parts: string[]): string {
  // Loaded here, not at the top: only configurations with ipMasq or macspoofchk pay for node:crypto.
  /* eslint-disable-next-line @typescript-eslint/no-require-imports --
     lazy on purpose: a plugin starts once per CNI call */
  const { createHash } = require('node:crypto') as typeof import('node:crypto');
  return createHash('sha512').update(parts.join('')).digest('hex');
}

function masqChain(network: string, containerId: string): string {
  return `CNI-${hash(network, containerId).slice(0, 24)}`;
}

/** The rules' comment, quoted for iptables-restore: name: "NETWORK" id: "CONTAINERID". */
const comment = (network: string, containerId: string): string => `"name: \\"${network}\\" id: \\"${containerId}\\""`;

async function need(tool: string, args: string[], input?: string): Promise<string> {
  const r = await run(tool, args, { check: false, ...(input !== undefined ? { input } : {}) }).catch((e: Error) => {
    throw new CniError(
      CniCode.NOT_AVAILABLE,
      `${tool} is needed for this configuration and could not run: ${e.message}`,
    );
  });
  if (r.code !== 0)
    throw new CniError(
      CniCode.KERNEL_OPERATION,
      `${tool} ${args.join(' ')}: ${r.stderr.trim().split('\n').slice(-2).join(' | ')}`,
    );
  return r.stdout;
}

/** Masquerade what the container's addresses send outside `subnets` (and not to multicast). */
export async function setupMasq(
  network: string,
  containerId: string,
  addresses: readonly string[],
  subnets: readonly string[],
): Promise<void> {
  const chain = masqChain(network, containerId);
  const c = comment(network, containerId);
  const lines = ['*nat', `:${chain} - [0:0]`];
  for (const s of subnets) lines.push(`-A ${chain} -d ${s} -m comment --comment ${c} -j ACCEPT`);
  lines.push(`-A ${chain} ! -d 224.0.0.0/4 -m comment --comment ${c} -j MASQUERADE`);
  for (const a of addresses) lines.push(`-A POSTROUTING -s ${a} -m comment --comment ${c} -j ${chain}`);
  lines.push('COMMIT', '');
  await need('iptables-restore', ['--noflush'], lines.join('\n'));
}

/** Masquerade for a container's IPv4 addresses (an IPAM result's), leaving their own subnets alone. */
export async function masqueradeIps(network: string, containerId: string, ips: readonly ResultIp[]): Promise<void> {
  const v4 = ips.filter((a) => !a.address.includes(':'));
  await setupMasq(
    network,
    containerId,
    v4.map((a) => `${a.address.split('/')[0]}/32`),
    v4.map((a) => formatCidr(parseCidr(a.address))),
  );
}

/** GC: the masquerade chains of `network` whose container is not among the valid attachments. */
export async function collectMasq(network: string, valid: readonly GcAttachment[]): Promise<void> {
  const ids = new Set(valid.map((a) => a.containerID));
  for (const id of await masqContainers(network)) if (!ids.has(id)) await teardownMasq(network, id);
}

/** Removes the container's chain and the jumps to it; nothing there is fine. */
export async function teardownMasq(network: string, containerId: string): Promise<void> {
  const chain = masqChain(network, containerId);
  const rules = (await need('iptables', ['-t', 'nat', '-S'])).split('\n');
  if (!rules.some((r) => r === `-N ${chain}`)) return;
  const lines = ['*nat'];
  for (const r of rules)
    if (r.startsWith('-A POSTROUTING ') && r.endsWith(`-j ${chain}`)) lines.push(r.replace(/^-A /, '-D '));
  lines.push(`-F ${chain}`, `-X ${chain}`, 'COMMIT', '');
  await need('iptables-restore', ['--noflush'], lines.join('\n'));
}

/** Containers that have a masquerade chain on `network`, from the chains' comments. */
async function masqContainers(network: string): Promise<Set<string>> {
  let text: string;
  try {
    text = await need('iptables', ['-t', 'nat', '-S']);
  } catch {
    return new Set();
  }
  const out = new Set<string>();
  const re = new RegExp(
    `--comment "name: \\\\?"${network.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\\\?" id: \\\\?"([^"\\\\]+)\\\\?""`,
  );
  for (const line of text.split('\n')) {
    const m = re.exec(line);
    if (m) out.add(m[1]!);
  }
  return out;
}

/** The attachment's chain, named as the reference plugin names it: cni-br-iface-CONTAINERID-IFNAME. */
function spoofChain(containerId: string, ifName: string): string {
  return `cni-br-iface-${containerId}-${ifName}`;
}

/**
 * Frames entering the bridge from `hostIf` must carry `mac` as their source: PREROUTING jumps to
 * the attachment's chain, which jumps to its MAC chain (return on the right source, else drop),
 * every rule commented with the attachment — the reference plugin's layout.
 */
export async function setupMacSpoofCheck(
  containerId: string,
  ifName: string,
  hostIf: string,
  mac: string,
): Promise<void> {
  const chain = spoofChain(containerId, ifName);
  const c = `comment "macspoofchk-${containerId}-${ifName}"`;
  const script = [
    'add table bridge nat',
    'add chain bridge nat PREROUTING { type filter hook prerouting priority -300 ; }',
    `add chain bridge nat ${chain}`,
    `add chain bridge nat ${chain}-mac`,
    `flush chain bridge nat ${chain}`,
    `flush chain bridge nat ${chain}-mac`,
    `add rule bridge nat PREROUTING iifname "${hostIf}" jump ${chain} ${c}`,
    `add rule bridge nat ${chain} jump ${chain}-mac ${c}`,
    `add rule bridge nat ${chain}-mac ether saddr ${mac} return ${c}`,
    `add rule bridge nat ${chain}-mac drop ${c}`,
    '',
  ].join('\n');
  await need('nft', ['-f', '-'], script);
}

export async function teardownMacSpoofCheck(containerId: string, ifName: string): Promise<void> {
  await teardownSpoofChain(spoofChain(containerId, ifName));
}

async function teardownSpoofChain(chain: string): Promise<void> {
  let listing: string;
  try {
    listing = await need('nft', ['-a', 'list', 'table', 'bridge', 'nat']);
  } catch {
    return; // no table: nothing of ours
  }
  const script = listing
    .split('\n')
    .filter((l) => l.includes(`jump ${chain} `))
    .map((l) => /# handle (\d+)/.exec(l)?.[1])
    .filter(Boolean)
    .map((h) => `delete rule bridge nat PREROUTING handle ${h}`);
  for (const name of [chain, `${chain}-mac`]) {
    if (listing.includes(`chain ${name} {`)) script.push(`flush chain bridge nat ${name}`);
  }
  for (const name of [chain, `${chain}-mac`]) {
    if (listing.includes(`chain ${name} {`)) script.push(`delete chain bridge nat ${name}`);
  }
  if (script.length > 0) await need('nft', ['-f', '-'], script.join('\n') + '\n');
}

/** Removes spoof-check chains whose host-side port no longer exists (GC: they can never match again). */
export async function collectOrphanSpoofChecks(linkExists: (name: string) => boolean): Promise<void> {
  let listing: string;
  try {
    listing = await need('nft', ['list', 'chain', 'bridge', 'nat', 'PREROUTING']);
  } catch {
    return;
  }
  for (const m of listing.matchAll(/iifname "([^"]+)" jump (cni-br-iface-\S+)/g)) {
    if (!linkExists(m[1]!)) await teardownSpoofChain(m[2]!);
  }
}
