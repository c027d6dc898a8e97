/** Calico's controller service: the IPAM blocks and nodes behind their API (/v3), mounted when --ipam-data is given. */
import type { ControllerService, MountedService } from '../../controller/service';
import { handleIpam, ipamRules } from './api';
import { IpamStore, type CalicoMode, type PoolConfig } from './store';

export function mountIpam(store: IpamStore): MountedService {
  return {
    name: 'IPAM blocks',
    prefix: '/v3',
    what: `IPAM blocks of ${store.config.pool} (/v3, ${store.config.mode})`,
    rules: ipamRules(store),
    handle: (q) => handleIpam(store, q),
    close: () => store.close(),
  };
}

/** The flags that make a controller serve `config`'s IPAM, kept in `data`. */
export function ipamServiceArgs(data: string, config: PoolConfig): string[] {
  return ['--ipam-data', data, '--pool', config.pool, '--block-size', String(config.blockSize), '--mode', config.mode];
}

export const ipamService: ControllerService = {
  name: 'IPAM blocks',
  options: {
    /** Calico's IPAM: its SQLite file; with it, --pool, --block-size and --mode. */
    'ipam-data': { type: 'string' },
    pool: { type: 'string' },
    'block-size': { type: 'string', default: '26' },
    mode: { type: 'string' },
  },
  open(values) {
    if (typeof values['ipam-data'] !== 'string') return undefined;
    // The store checks the pool and the mode before it opens (or creates) its file.
    const store = new IpamStore(values['ipam-data'], {
      pool: (values.pool as string | undefined) ?? '',
      blockSize: Number(values['block-size']),
      mode: ((values.mode as string | undefined) ?? '') as CalicoMode,
    });
    return mountIpam(store);
  },
};
