/** flannel's controller service: the lease store behind the subnet API (/v1), mounted when --backend is given. */
import { CnilabError } from '../../lib/errors';
import type { AdminGet, ControllerService, MountedService, Trespass } from '../../controller/service';
import { handleLeases, LEASE_RULES } from './api';
import { LeaseStore } from './lease-store';
import { hasIPv4, hasIPv6, type BackendConfig, type Lease } from './model';

export function mountLeases(store: LeaseStore): MountedService {
  return {
    name: 'leases',
    prefix: '/v1',
    what: `leases for ${[
      ...(hasIPv4(store.config) ? [store.config.network] : []),
      ...(hasIPv6(store.config) ? [store.config.ipv6Network] : []),
    ].join(' and ')} (${store.config.backend.type})`,
    rules: LEASE_RULES,
    handle: (q) => handleLeases(store, q),
    close: () => store.close(),
  };
}

/** The IP families of a network: flannel's EnableIPv4/EnableIPv6, IPv6Network and IPv6SubnetLen. */
export interface LeaseFamilies {
  /** Default: true. */
  readonly ipv4?: boolean;
  /** The IPv6 pod network; IPv6 is on when it is given. */
  readonly ipv6Network?: string;
  /** Default: 64. */
  readonly ipv6SubnetLength?: number;
}

/** The flags that make a controller serve leases of `network` (and `families`) for `backend`, kept in `data`. */
export function leaseServiceArgs(
  data: string,
  network: string,
  subnetLength: number,
  backend: BackendConfig,
  families: LeaseFamilies = {},
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
    ...(families.ipv4 === false ? ['--no-ipv4'] : []),
    ...(families.ipv6Network ? ['--ipv6-network', families.ipv6Network] : []),
    ...(families.ipv6Network && families.ipv6SubnetLength
      ? ['--ipv6-subnet-length', String(families.ipv6SubnetLength)]
      : []),
  ];
}

async function leaseOf(victim: string, get: AdminGet): Promise<Lease> {
  const lease = ((await get('/v1/leases')) as { leases: Lease[] }).leases.find((l) => l.node === victim);
  if (!lease) throw new CnilabError('NOT_FOUND', `node ${victim} holds no lease`);
  return lease;
}

/** Another node renewing the victim's lease to its own address, releasing it, or claiming its VTEP. */
const leaseTrespass: Trespass = {
  probe: '/v1/config',
  async owned(victim, get) {
    const { expiresAt: _e, updatedAt: _u, ...lease } = await leaseOf(victim, get);
    return lease;
  },
  async attempts(victim, get, self) {
    const { publicIp, backendType, backendData } = await leaseOf(victim, get);
    const own = await leaseOf(self, get);
    return [
      { method: 'PUT', path: `/v1/leases/${victim}`, body: { publicIp, backendType, backendData: { ...backendData } } },
      { method: 'DELETE', path: `/v1/leases/${victim}` },
      // Its own lease naming the victim's VTEP: peers would send the victim's traffic to it.
      ...(backendData.vtepMac
        ? [
            {
              method: 'PUT' as const,
              path: `/v1/leases/${self}`,
              body: {
                publicIp: own.publicIp,
                backendType,
                backendData: { ...own.backendData, vtepMac: backendData.vtepMac },
              },
              expect: 409 as const,
            },
          ]
        : []),
    ];
  },
};

export const leaseService: ControllerService = {
  name: 'leases',
  trespass: leaseTrespass,
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
    /** flannel's EnableIPv4=false: leases carry no IPv4 subnet (an IPv6-only network). */
    'no-ipv4': { type: 'boolean', default: false },
    /** flannel's IPv6Network; IPv6 is on (EnableIPv6) when it is given. */
    'ipv6-network': { type: 'string' },
    /** flannel's IPv6SubnetLen. */
    'ipv6-subnet-length': { type: 'string', default: '64' },
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
      {
        network: values.network as string,
        subnetLength: Number(values['subnet-length']),
        enableIPv4: values['no-ipv4'] !== true,
        enableIPv6: typeof values['ipv6-network'] === 'string',
        ...(typeof values['ipv6-network'] === 'string'
          ? { ipv6Network: values['ipv6-network'], ipv6SubnetLength: Number(values['ipv6-subnet-length']) }
          : {}),
        backend,
      },
      Number(values['lease-ttl']),
    );
    return mountLeases(store);
  },
};
