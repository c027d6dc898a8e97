/**
 * The architecture registry: every architecture cnilab knows, and — the one place that names
 * them — every kind of control plane. Nothing else branches on a kind: the lab, the run and the
 * CLI talk to `Architecture.control` only.
 */
import { Registry } from '../lib/registry';
import {
  flannelHostGwArch,
  flannelUdpArch,
  flannelUdpOffloadArch,
  flannelVxlanArch,
  flannelVxlanDirectArch,
  flannelWireguardArch,
  flannelIpsecArch,
} from '../flannel/architectures';
import type { flannelControlPlane } from '../flannel/control-plane';
import { kuryrLbVlanArch, kuryrLbVxlanArch, kuryrOvsVlanArch, kuryrOvsVxlanArch } from '../kuryr/architectures';
import type { kuryrControlPlane } from '../kuryr/control-plane';
import { FEATURES, kindProbes } from '../doctor/features';
import type { Architecture } from './architecture';
import { bridgeArch } from './bridge';
import { hostArch, type baselineControlPlane } from './host';
import { ipvlanArch, ipvlanL3Arch } from './ipvlan';
import { macvlanArch } from './macvlan';
import { ebpfNativeArch, ebpfNetkitArch, ebpfVxlanArch } from '../ebpf/architectures';
import type { ebpfControlPlane } from '../ebpf/control-plane';
import { calicoBgpArch, calicoIpipArch, calicoVxlanArch, calicoWireguardArch } from '../calico/architectures';
import type { calicoControlPlane } from '../calico/control-plane';

/** The kinds of control plane, a discriminated union on `kind`: a new kind is one folder and one member here. */
export type ControlPlaneKind =
  | typeof baselineControlPlane
  | ReturnType<typeof flannelControlPlane>
  | ReturnType<typeof kuryrControlPlane>
  | ReturnType<typeof ebpfControlPlane>
  | ReturnType<typeof calicoControlPlane>;
const KINDS: readonly ControlPlaneKind['kind'][] = ['baseline', 'flannel', 'kuryr', 'ebpf', 'calico'];

/**
 * Hands the doctor the probes of `a`'s kind (once per probe: a kind's architectures share them)
 * and checks that every feature `a` requires is probed by someone.
 */
function registerProbes(a: Architecture): void {
  for (const p of a.control.probes ?? []) {
    if ((FEATURES as readonly string[]).includes(p.feature))
      throw new Error(`architecture ${a.name}: its kind probes ${p.feature}, which cnilab doctor probes itself`);
    if (kindProbes.has(p.feature) && kindProbes.get(p.feature) === p) continue;
    kindProbes.register(p.feature, p);
  }
  const unprobed = a.requires.find((f) => !(FEATURES as readonly string[]).includes(f) && !kindProbes.has(f));
  if (unprobed)
    throw new Error(
      `architecture ${a.name} requires ${unprobed}, which neither cnilab doctor nor a kind's probe probes`,
    );
}

/** Every architecture `cnilab up` and `cnilab run` know, in the default matrix's order. */
export const architectures = new Registry<Architecture>('architecture', 'UNKNOWN_ARCH');
for (const a of [
  hostArch,
  bridgeArch,
  flannelHostGwArch,
  flannelVxlanArch,
  flannelUdpArch,
  flannelUdpOffloadArch,
  macvlanArch,
  ipvlanArch,
  ebpfNativeArch,
  ebpfVxlanArch,
  calicoBgpArch,
  calicoVxlanArch,
  kuryrOvsVxlanArch,
  kuryrOvsVlanArch,
  kuryrLbVxlanArch,
  kuryrLbVlanArch,
  flannelVxlanDirectArch,
  ipvlanL3Arch,
  calicoIpipArch,
  flannelWireguardArch,
  calicoWireguardArch,
  flannelIpsecArch,
  ebpfNetkitArch,
]) {
  if (!(KINDS as readonly string[]).includes(a.control.kind))
    throw new Error(
      `architecture ${a.name}: control plane of unknown kind ${a.control.kind}; add it to ControlPlaneKind`,
    );
  registerProbes(a);
  architectures.register(a.name, a);
}

/** What `cnilab up` builds when no architecture is named. */
export const DEFAULT_LAB_ARCH = flannelVxlanArch.name;

/** What a plain `cnilab run` measures. */
export function defaultArchitectures(): string[] {
  return architectures.names().filter((n) => architectures.get(n).inDefaultMatrix !== false);
}

/** The architectures BIG TCP is an option of (docs/big-tcp.md). */
export function bigTcpArchitectures(): string[] {
  return architectures.names().filter((n) => architectures.get(n).bigTcp === true);
}
