import { Registry } from '../lib/registry';
import type { Architecture } from './architecture';
import { bridgeArch } from './bridge';
import { hostArch } from './host';
import { hostGwArch } from './host-gw';
import { macvlanArch } from './macvlan';
import { vxlanArch } from './vxlan';

/** Every architecture `cnilab up` and `cnilab run` know, in the default matrix's order. */
export const architectures = new Registry<Architecture>('architecture', 'UNKNOWN_ARCH');
for (const a of [hostArch, bridgeArch, hostGwArch, vxlanArch, macvlanArch]) architectures.register(a.name, a);
