#!/usr/bin/env node
/**
 * The control-plane process of a lab: runs inside the control node's namespace and serves, on one
 * port, the flannel lease store (when --backend is given) and the Neutron-like port controller.
 */
import { rmSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { LeaseStore } from '../flannel/subnet/lease-store';
import { createControlServer, type ControlStores } from './server';
import { NeutronStore } from '../kuryr/neutron/store';
import { DEFAULT_NEUTRON_CONFIG } from '../kuryr/neutron/model';
import { IpamStore, type CalicoMode } from '../calico/ipam/store';
import { messageOf } from '../lib/errors';

const { values } = parseArgs({
  options: {
    listen: { type: 'string' },
    port: { type: 'string', default: '2379' },
    /** The lease store's SQLite file. */
    data: { type: 'string' },
    /** The port controller's SQLite file. */
    'neutron-data': { type: 'string' },
    'underlay-mtu': { type: 'string', default: '1500' },
    network: { type: 'string' },
    'subnet-length': { type: 'string', default: '24' },
    /** The flannel backend; without it no leases are served. */
    backend: { type: 'string' },
    'direct-routing': { type: 'boolean', default: false },
    /** udp-offload: comma-separated techniques switched off. */
    disable: { type: 'string' },
    'lease-ttl': { type: 'string', default: '3600' },
    /** Calico's IPAM: its SQLite file; with it, --pool, --block-size and --mode. */
    'ipam-data': { type: 'string' },
    pool: { type: 'string' },
    'block-size': { type: 'string', default: '26' },
    mode: { type: 'string' },
    /** Also serve the API on this Unix socket: the lab's tools reach it there, from outside the namespace. */
    socket: { type: 'string' },
  },
});
const need = (ks: readonly ('listen' | 'data' | 'network' | 'neutron-data')[]): void => {
  for (const k of ks) {
    if (!values[k]) {
      console.error(`cnilab-controller: --${k} is required`);
      process.exit(2);
    }
  }
};
need(['listen']);
const stores: { leases?: LeaseStore; neutron?: NeutronStore; ipam?: IpamStore } = {};
if (values.backend) {
  need(['data', 'network']);
  const backend = {
    type: values.backend,
    ...(values['direct-routing'] ? { directRouting: true } : {}),
    ...(values.disable ? { disable: values.disable.split(',') } : {}),
  };
  stores.leases = new LeaseStore(
    values.data!,
    { network: values.network!, subnetLength: Number(values['subnet-length']), backend },
    Number(values['lease-ttl']),
  );
}
if (values['neutron-data'])
  stores.neutron = new NeutronStore(values['neutron-data'], {
    ...DEFAULT_NEUTRON_CONFIG,
    underlayMtu: Number(values['underlay-mtu']),
  });
if (values['ipam-data']) {
  try {
    stores.ipam = new IpamStore(values['ipam-data'], {
      pool: values.pool ?? '',
      blockSize: Number(values['block-size']),
      mode: (values.mode ?? '') as CalicoMode,
    });
  } catch (e) {
    console.error(`cnilab-controller: ${messageOf(e)}`);
    process.exit(2);
  }
}
const serving: ControlStores = stores;
const what = [
  stores.leases ? `leases for ${values.network} (${values.backend})` : '',
  stores.neutron ? 'ports (/v2.0)' : '',
  stores.ipam ? `IPAM blocks of ${values.pool} (/v3, ${values.mode})` : '',
]
  .filter(Boolean)
  .join(' and ');
const fail =
  (where: string) =>
  (e: Error): void => {
    console.error(`cnilab-controller: cannot listen on ${where}: ${e.message}`);
    process.exit(1);
  };
// The Unix socket comes second: when it exists, the underlay address is served too.
createControlServer(serving)
  .on('error', fail(`${values.listen}:${values.port}`))
  .listen(Number(values.port), values.listen, () => {
    console.log(`cnilab-controller: ${what} on ${values.listen}:${values.port}`);
    if (values.socket) {
      rmSync(values.socket, { force: true });
      createControlServer(serving).on('error', fail(values.socket)).listen(values.socket);
    }
  });
const stop = (): void => {
  // Every change is on disk before it is acknowledged: nothing to flush.
  stores.leases?.close();
  stores.neutron?.close();
  stores.ipam?.close();
  if (values.socket) rmSync(values.socket, { force: true });
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
