#!/usr/bin/env node
/** The calico node agent process: runs inside its compute node's namespace. */
import { parseArgs } from 'node:util';
import { messageOf } from '../../lib/errors';
import { CALICO_MODES, type CalicoMode } from '../ipam/store';
import { runCalicoAgent } from './agent';

const { values } = parseArgs({
  options: {
    store: { type: 'string' },
    node: { type: 'string' },
    iface: { type: 'string', default: 'eth0' },
    'run-dir': { type: 'string' },
    mode: { type: 'string' },
  },
});
for (const k of ['store', 'node', 'run-dir', 'mode'] as const) {
  if (!values[k]) {
    console.error(`cnilab-calico-agent: --${k} is required`);
    process.exit(2);
  }
}
if (!(CALICO_MODES as readonly string[]).includes(values.mode!)) {
  console.error(`cnilab-calico-agent: --mode: ${JSON.stringify(values.mode)} is not one of bgp, vxlan`);
  process.exit(2);
}
const controller = new AbortController();
process.on('SIGTERM', () => controller.abort());
process.on('SIGINT', () => controller.abort());
const log = (line: string): void => console.log(`${new Date().toISOString()} ${values.node}: ${line}`);
runCalicoAgent(
  {
    store: values.store!,
    node: values.node!,
    iface: values.iface!,
    runDir: values['run-dir']!,
    mode: values.mode as CalicoMode,
    log,
  },
  controller.signal,
).then(
  () => process.exit(0),
  (e: unknown) => {
    if (controller.signal.aborted) process.exit(0);
    log(`failed: ${messageOf(e)}`);
    process.exit(1);
  },
);
