import { Registry } from '../../lib/registry';
import type { Backend } from './backend';
import { hostGwBackend } from './host-gw';
import { ipsecBackend } from './ipsec';
import { noneBackend } from './none';
import { udpBackend } from './udp';
import { udpOffloadBackend } from './udp-offload';
import { vxlanBackend } from './vxlan';
import { wireguardBackend } from './wireguard';

export const backends = new Registry<Backend>('backend')
  .register('none', noneBackend)
  .register('host-gw', hostGwBackend)
  .register('vxlan', vxlanBackend)
  .register('udp', udpBackend)
  .register('udp-offload', udpOffloadBackend)
  .register('wireguard', wireguardBackend)
  .register('ipsec', ipsecBackend);
