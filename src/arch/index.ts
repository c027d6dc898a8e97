import { Registry } from '../lib/registry';
import type { Architecture } from './architecture';
import { bridgeArch } from './bridge';
import { flannelHostGwArch, flannelUdpArch, flannelUdpOffloadArch, flannelVxlanArch, flannelVxlanDirectArch } from '../flannel/architectures';
import { hostArch } from './host';
import { kuryrLbVlanArch, kuryrLbVxlanArch, kuryrOvsVlanArch, kuryrOvsVxlanArch } from '../kuryr/architectures';
import { macvlanArch } from './macvlan';

/** Every architecture `cnilab up` and `cnilab run` know, in the default matrix's order. */
export const architectures = new Registry<Architecture>('architecture', 'UNKNOWN_ARCH');
for (const a of [hostArch, bridgeArch, flannelHostGwArch, flannelVxlanArch, flannelUdpArch, flannelUdpOffloadArch, macvlanArch, kuryrOvsVxlanArch, kuryrOvsVlanArch, kuryrLbVxlanArch, kuryrLbVlanArch, flannelVxlanDirectArch]) architectures.register(a.name, a);

/** What a plain `cnilab run` measures. */
export function defaultArchitectures(): string[] {
  return architectures.names().filter((n) => architectures.get(n).inDefaultMatrix !== false);
}
