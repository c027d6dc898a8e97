#!/usr/bin/env node
/** The node daemon of a Kuryr lab: runs inside its compute node's namespace (see daemon.ts). */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { NODE_OPTIONS, runDaemon, stopped, type DaemonContext } from '../../node/daemon';
import { KuryrDaemon } from './daemon';
import type { MechanismDriver } from '../drivers/driver';
import { LinuxbridgeDriver } from '../drivers/linuxbridge';
import { OpenvswitchDriver } from '../drivers/openvswitch';

const options = {
  ...NODE_OPTIONS,
  controller: { type: 'string' },
  /** The node's underlay address with prefix, e.g. 198.18.0.2/24. */
  underlay: { type: 'string' },
  driver: { type: 'string' },
  /** openvswitch: ovsdb-server's socket and the datapath type. */
  'ovs-db': { type: 'string' },
  datapath: { type: 'string', default: 'netdev' },
  /** netdev: ovs-vswitchd runs with userspace TSO; veths keep their offloads. */
  'userspace-tso': { type: 'boolean', default: false },
  'netns-prefix': { type: 'string' },
} as const;

function driverOf(
  values: { [k in keyof typeof options]?: string | boolean },
  usage: DaemonContext['usage'],
): MechanismDriver {
  const underlay = values.underlay as string;
  const uplink = values.iface as string;
  if (values.driver === 'openvswitch') {
    if (!values['ovs-db'] || !['netdev', 'system'].includes(values.datapath as string))
      usage('openvswitch needs --ovs-db and --datapath netdev|system');
    return new OpenvswitchDriver({
      db: values['ovs-db'] as string,
      datapath: values.datapath as 'netdev' | 'system',
      uplink,
      underlay,
      userspaceTso: values['userspace-tso'] === true,
    });
  }
  if (values.driver === 'linuxbridge') return new LinuxbridgeDriver({ uplink, underlayIp: underlay.split('/')[0]! });
  return usage(`--driver ${JSON.stringify(values.driver)}: must be openvswitch or linuxbridge`);
}

runDaemon({
  name: 'kuryr-daemon',
  options,
  required: ['controller', 'node', 'underlay', 'run-dir', 'driver', 'netns-prefix'],
  async run(values, { signal, usage }) {
    const driver = driverOf(values, usage);
    const daemon = new KuryrDaemon({
      controller: values.controller!,
      node: values.node!,
      underlayIp: values.underlay!.split('/')[0]!,
      runDir: values['run-dir']!,
      netnsPrefix: values['netns-prefix']!,
      driver,
      ...(values.credential ? { credential: values.credential } : {}),
    });
    const socket = join(values['run-dir']!, 'kuryr.sock');
    try {
      await daemon.start();
      rmSync(socket, { force: true });
      daemon
        .server()
        .listen(socket, () => console.log(`kuryr-daemon: ${values.node} (${driver.datapath}) serving ${socket}`));
      await stopped(signal);
    } finally {
      daemon.stop();
      rmSync(socket, { force: true });
    }
  },
});
