#!/usr/bin/env node
/** The node daemon of a Kuryr lab: runs inside its compute node's namespace (see daemon.ts). */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { messageOf } from '../../lib/errors';
import { KuryrDaemon } from './daemon';
import type { MechanismDriver } from '../drivers/driver';
import { LinuxbridgeDriver } from '../drivers/linuxbridge';
import { OpenvswitchDriver } from '../drivers/openvswitch';

const { values } = parseArgs({
  options: {
    controller: { type: 'string' },
    node: { type: 'string' },
    /** The node's underlay address with prefix, e.g. 198.18.0.2/24. */
    underlay: { type: 'string' },
    iface: { type: 'string', default: 'eth0' },
    'run-dir': { type: 'string' },
    driver: { type: 'string' },
    /** openvswitch: ovsdb-server's socket and the datapath type. */
    'ovs-db': { type: 'string' },
    datapath: { type: 'string', default: 'netdev' },
    /** netdev: ovs-vswitchd runs with userspace TSO; veths keep their offloads. */
    'userspace-tso': { type: 'boolean', default: false },
    'netns-prefix': { type: 'string' },
  },
});
for (const k of ['controller', 'node', 'underlay', 'run-dir', 'driver', 'netns-prefix'] as const) {
  if (!values[k]) {
    console.error(`kuryr-daemon: --${k} is required`);
    process.exit(2);
  }
}
const underlay = values.underlay!;
let driver: MechanismDriver;
if (values.driver === 'openvswitch') {
  if (!values['ovs-db'] || !['netdev', 'system'].includes(values.datapath!)) {
    console.error('kuryr-daemon: openvswitch needs --ovs-db and --datapath netdev|system');
    process.exit(2);
  }
  driver = new OpenvswitchDriver({
    db: values['ovs-db'],
    datapath: values.datapath as 'netdev' | 'system',
    uplink: values.iface!,
    underlay,
    userspaceTso: values['userspace-tso'],
  });
} else if (values.driver === 'linuxbridge') {
  driver = new LinuxbridgeDriver({ uplink: values.iface!, underlayIp: underlay.split('/')[0]! });
} else {
  console.error(`kuryr-daemon: --driver ${JSON.stringify(values.driver)}: must be openvswitch or linuxbridge`);
  process.exit(2);
}

const daemon = new KuryrDaemon({
  controller: values.controller!,
  node: values.node!,
  underlayIp: underlay.split('/')[0]!,
  runDir: values['run-dir']!,
  netnsPrefix: values['netns-prefix']!,
  driver,
});
const socket = join(values['run-dir']!, 'kuryr.sock');
daemon
  .start()
  .then(() => {
    rmSync(socket, { force: true });
    daemon
      .server()
      .listen(socket, () => console.log(`kuryr-daemon: ${values.node} (${driver.datapath}) serving ${socket}`));
  })
  .catch((e: unknown) => {
    console.error(`kuryr-daemon: start-up failed: ${messageOf(e)}`);
    process.exit(1);
  });
const stop = (): void => {
  daemon.stop();
  rmSync(socket, { force: true });
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
