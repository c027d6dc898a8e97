/** flannel's controller service: the lease store behind the subnet API (/v1), mounted when --backend is given. */
import { CnilabError } from '../../lib/errors';
import type { ControllerService, MountedService } from '../../controller/service';
import { handleLeases, LEASE_RULES } from './api';
import { LeaseStore } from './lease-store';
import type { BackendConfig } from './model';

export function mountLeases(store: LeaseStore): MountedService {
  return {
    name: 'leases',
    prefix: '/v1',
    what: `leases for ${store.config.network} (${store.config.backend.type})`,
    rules: LEASE_RULES,
    handle: (q) => handleLeases(store, q),
    close: () => store.close(),
  };
}

/** The flags that make a controller serve leases of `network` for `backend`, kept in `data`. */
export function leaseServiceArgs(
  data: string,
  network: string,
  subnetLength: number,
  backend: BackendConfig,
): string[] {
  return [
    '--data',
    data,
    '--network',
    network,
    '--subnet-length',
    String(subnetLength),
    '--backend',
    backend.type,
    ...(backend.directRouting ? ['--direct-routing'] : []),
    ...(backend.disable?.length ? ['--disable', backend.disable.join(',')] : []),
  ];
}

export const leaseService: ControllerService = {
  name: 'leases',
  options: {
    /** The lease store's SQLite file. */
    data: { type: 'string' },
    network: { type: 'string' },
    'subnet-length': { type: 'string', default: '24' },
    /** The flannel backend; without it no leases are served. */
    backend: { type: 'string' },
    'direct-routing': { type: 'boolean', default: false },
    /** udp-offload: comma-separated techniques switched off. */
    disable: { type: 'string' },
    'lease-ttl': { type: 'string', default: '3600' },
  },
  open(values) {
    if (typeof values.backend !== 'string') return undefined;
    for (const k of ['data', 'network'])
      if (typeof values[k] !== 'string') throw new CnilabError('INVALID_INPUT', `--${k} is required`);
    const backend = {
      type: values.backend,
      ...(values['direct-routing'] === true ? { directRouting: true } : {}),
      ...(typeof values.disable === 'string' ? { disable: values.disable.split(',') } : {}),
    };
    const store = new LeaseStore(
      values.data as string,
      { network: values.network as string, subnetLength: Number(values['subnet-length']), backend },
      Number(values['lease-ttl']),
    );
    return mountLeases(store);
  },
};
