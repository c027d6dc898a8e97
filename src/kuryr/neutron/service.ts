/**
 * Kuryr's controller service: the port controller behind its Neutron-shaped API (/v2.0), mounted when --neutron-data
 * is given.
 */
import type { ControllerService, MountedService } from '../../controller/service';
import { handleNeutron, neutronRules } from './api';
import { DEFAULT_NEUTRON_CONFIG } from './model';
import { NeutronStore } from './store';

export function mountNeutron(store: NeutronStore): MountedService {
  return {
    name: 'ports',
    prefix: '/v2.0',
    what: 'ports (/v2.0)',
    rules: neutronRules(store),
    handle: (q) => handleNeutron(store, q),
    close: () => store.close(),
  };
}

/** The flags that make a controller serve ports, kept in `data`, on an underlay of `underlayMtu`. */
export function neutronServiceArgs(data: string, underlayMtu: number): string[] {
  return ['--neutron-data', data, '--underlay-mtu', String(underlayMtu)];
}

export const neutronService: ControllerService = {
  name: 'ports',
  options: {
    /** The port controller's SQLite file. */
    'neutron-data': { type: 'string' },
    'underlay-mtu': { type: 'string', default: '1500' },
  },
  open(values) {
    if (typeof values['neutron-data'] !== 'string') return undefined;
    return mountNeutron(
      new NeutronStore(values['neutron-data'], {
        ...DEFAULT_NEUTRON_CONFIG,
        underlayMtu: Number(values['underlay-mtu']),
      }),
    );
  },
};
