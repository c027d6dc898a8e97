/** Calico's controller service: the IPAM blocks and nodes behind their API (/v3), mounted when --ipam-data is given. */
import type { AdminGet, Attempt, ControllerService, MountedService, Trespass } from '../../controller/service';
import { CnilabError } from '../../lib/errors';
import { handleIpam, ipamRules } from './api';
import { BLOCK_SIZE6, IpamStore, type Allocation, type CalicoMode, type IpamState, type PoolConfig } from './store';

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
  return [
    ...['--ipam-data', data, '--pool', config.pool, '--block-size', String(config.blockSize), '--mode', config.mode],
    ...(config.pool6 ? ['--pool6', config.pool6, '--block-size6', String(config.blockSize6 ?? BLOCK_SIZE6)] : []),
  ];
}

async function victimsIpam(victim: string, get: AdminGet) {
  const state = (await get('/v3/state')) as IpamState;
  const { allocations } = (await get(`/v3/ipam/allocations?node=${victim}`)) as { allocations: Allocation[] };
  const node = state.nodes.find((n) => n.name === victim);
  if (!node) throw new CnilabError('NOT_FOUND', `node ${victim} is not registered`);
  return { node, blocks: state.blocks.filter((b) => b.node === victim), allocations };
}

/**
 * Another node re-registering or removing the victim, taking an address from its blocks, releasing
 * its pod's address, collecting its handles, listing its allocations, or claiming its VTEP or its
 * WireGuard key or address.
 */
const ipamTrespass: Trespass = {
  probe: '/v3/state',
  owned: victimsIpam,
  async attempts(victim, get, self) {
    const { node, allocations } = await victimsIpam(victim, get);
    const own = (await victimsIpam(self, get)).node;
    const held = allocations[0];
    if (!held) throw new CnilabError('NOT_FOUND', `node ${victim} holds no address`);
    // Its own registration naming the victim's VTEP, or an address of the victim's block as its VTEP.
    const takeover = (vtep: Record<string, string>): Attempt => ({
      method: 'PUT',
      path: `/v3/nodes/${self}`,
      body: { ip: own.ip, ...(own.vtepMac ? { vtepMac: own.vtepMac } : {}), ...vtep },
      expect: 409,
    });
    return [
      ...(node.vtepMac ? [takeover({ vtepMac: node.vtepMac })] : []),
      ...(node.vtepIp ? [takeover({ vtepIp: node.vtepIp })] : []),
      ...(node.wireguardPublicKey ? [takeover({ wireguardPublicKey: node.wireguardPublicKey })] : []),
      ...(node.wireguardIp ? [takeover({ wireguardIp: node.wireguardIp })] : []),
      takeover({ vtepIp: held.ip }),
      { method: 'PUT', path: `/v3/nodes/${victim}`, body: { ip: node.ip } },
      { method: 'DELETE', path: `/v3/nodes/${victim}` },
      { method: 'POST', path: '/v3/ipam/assign', body: { handle: 'trespass', node: victim } },
      { method: 'POST', path: '/v3/ipam/release', body: { handle: held.handle } },
      { method: 'POST', path: '/v3/ipam/gc', body: { node: victim, prefix: '', keep: [] } },
      { method: 'GET', path: `/v3/ipam/allocations?node=${victim}` },
    ];
  },
};

export const ipamService: ControllerService = {
  name: 'IPAM blocks',
  trespass: ipamTrespass,
  options: {
    /** Calico's IPAM: its SQLite file; with it, --pool, --block-size and --mode. */
    'ipam-data': { type: 'string' },
    pool: { type: 'string' },
    'block-size': { type: 'string', default: '26' },
    mode: { type: 'string' },
    /** The IPv6 pool (dual-stack or IPv6 labs) and its block size (default 122). */
    pool6: { type: 'string' },
    'block-size6': { type: 'string', default: String(BLOCK_SIZE6) },
  },
  open(values) {
    if (typeof values['ipam-data'] !== 'string') return undefined;
    // The store checks the pool and the mode before it opens (or creates) its file.
    const store = new IpamStore(values['ipam-data'], {
      pool: (values.pool as string | undefined) ?? '',
      blockSize: Number(values['block-size']),
      mode: ((values.mode as string | undefined) ?? '') as CalicoMode,
      ...(typeof values.pool6 === 'string' ? { pool6: values.pool6, blockSize6: Number(values['block-size6']) } : {}),
    });
    return mountIpam(store);
  },
};
