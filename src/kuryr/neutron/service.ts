/**
 * Kuryr's controller service: the port controller behind its Neutron-shaped API (/v2.0), mounted when --neutron-data
 * is given.
 */
import type { Attempt, AdminGet, ControllerService, MountedService, Trespass } from '../../controller/service';
import { CnilabError } from '../../lib/errors';
import { handleNeutron, neutronRules } from './api';
import { DEFAULT_NEUTRON_CONFIG, type NeutronState, type Port } from './model';
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

async function victimsPorts(victim: string, get: AdminGet): Promise<Port[]> {
  return ((await get(`/v2.0/ports?hostId=${victim}`)) as { ports: Port[] }).ports;
}

/**
 * Another node rebinding, renaming or deleting the victim's ports, creating one bound to it,
 * reporting its agent, or changing the layout (networks, subnets, routers: the administrator's).
 */
const portTrespass: Trespass = {
  probe: '/v2.0/networks',
  async owned(victim, get) {
    const { networks, subnets, routers, routerPorts, agents } = (await get('/v2.0/state')) as NeutronState;
    const agent = agents.find((a) => a.host === victim);
    const { updatedAt: _u, ...wired } = agent ?? { updatedAt: '' };
    return { ports: await victimsPorts(victim, get), agent: wired, networks, subnets, routers, routerPorts };
  },
  async attempts(victim, get) {
    const ports = await victimsPorts(victim, get);
    const { networks, subnets, routers, agents } = (await get('/v2.0/state')) as NeutronState;
    const port = ports[0];
    if (!port) throw new CnilabError('NOT_FOUND', `node ${victim} holds no port`);
    const agent = agents.find((a) => a.host === victim);
    const [net, sub, router] = [networks[0]?.id ?? 'none', subnets[0]?.id ?? 'none', routers[0]?.id ?? 'none'];
    const onRouter = (action: string): Attempt => ({
      method: 'PUT',
      path: `/v2.0/routers/${router}/${action}`,
      body: { subnetId: sub },
    });
    return [
      { method: 'POST', path: '/v2.0/ports', body: { port: { networkId: port.networkId, hostId: victim } } },
      { method: 'PUT', path: `/v2.0/ports/${port.id}`, body: { port: { name: 'trespass' } } },
      { method: 'DELETE', path: `/v2.0/ports/${port.id}` },
      {
        method: 'PUT',
        path: `/v2.0/agents/${victim}`,
        body: {
          agent: {
            driver: agent?.driver ?? 'openvswitch',
            underlayIp: agent?.underlayIp ?? '198.18.0.9',
            datapath: 'trespass',
            wiredNetworks: [],
          },
        },
      },
      { method: 'POST', path: '/v2.0/networks', body: { network: { name: 'trespass', segmentationType: 'vxlan' } } },
      { method: 'DELETE', path: `/v2.0/networks/${net}` },
      { method: 'POST', path: '/v2.0/subnets', body: { subnet: { networkId: net, cidr: '10.99.0.0/24' } } },
      { method: 'DELETE', path: `/v2.0/subnets/${sub}` },
      { method: 'POST', path: '/v2.0/routers', body: { router: { name: 'trespass', host: victim } } },
      { method: 'DELETE', path: `/v2.0/routers/${router}` },
      onRouter('add_router_interface'),
      onRouter('remove_router_interface'),
    ];
  },
};

export const neutronService: ControllerService = {
  name: 'ports',
  trespass: portTrespass,
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
