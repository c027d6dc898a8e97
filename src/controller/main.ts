#!/usr/bin/env node
/** The control-plane process of a lab: runs inside the control node's namespace. */
import { rmSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { LeaseStore } from './lease-store';
import { createLeaseServer } from './server';

const { values } = parseArgs({
  options: {
    listen: { type: 'string' },
    port: { type: 'string', default: '2379' },
    data: { type: 'string' },
    network: { type: 'string' },
    'subnet-length': { type: 'string', default: '24' },
    backend: { type: 'string' },
    'direct-routing': { type: 'boolean', default: false },
    /** udp-offload: comma-separated techniques switched off. */
    disable: { type: 'string' },
    'lease-ttl': { type: 'string', default: '3600' },
    /** Also serve the API on this Unix socket: the lab's tools reach it there, from outside the namespace. */
    socket: { type: 'string' },
  },
});
for (const k of ['listen', 'data', 'network', 'backend'] as const) {
  if (!values[k]) {
    console.error(`cnilab-controller: --${k} is required`);
    process.exit(2);
  }
}
const backend = { type: values.backend!, ...(values['direct-routing'] ? { directRouting: true } : {}), ...(values.disable ? { disable: values.disable.split(',') } : {}) };
const store = new LeaseStore(values.data!, { network: values.network!, subnetLength: Number(values['subnet-length']), backend }, Number(values['lease-ttl']));
const server = createLeaseServer(store);
server.listen(Number(values.port), values.listen, () => console.log(`cnilab-controller: leases for ${values.network} (${backend.type}) on ${values.listen}:${values.port}`));
if (values.socket) {
  rmSync(values.socket, { force: true });
  createLeaseServer(store).listen(values.socket);
}
const stop = (): void => {
  // Every change is on disk before it is acknowledged: nothing to flush.
  store.close();
  if (values.socket) rmSync(values.socket, { force: true });
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
