#!/usr/bin/env node
/** The node agent process: runs inside its compute node's namespace. */
import { parseArgs } from 'node:util';
import { messageOf } from '../../lib/errors';
import { runAgent } from './agent';

const { values } = parseArgs({
  options: {
    store: { type: 'string' },
    node: { type: 'string' },
    iface: { type: 'string', default: 'eth0' },
    'run-dir': { type: 'string' },
    backend: { type: 'string' },
    'ebpf-dir': { type: 'string' },
  },
});
for (const k of ['store', 'node', 'run-dir'] as const) {
  if (!values[k]) {
    console.error(`cnilab-agent: --${k} is required`);
    process.exit(2);
  }
}
const controller = new AbortController();
process.on('SIGTERM', () => controller.abort());
process.on('SIGINT', () => controller.abort());
const log = (line: string): void => console.log(`${new Date().toISOString()} ${values.node}: ${line}`);
runAgent(
  {
    store: values.store!,
    node: values.node!,
    iface: values.iface!,
    runDir: values['run-dir']!,
    ...(values.backend ? { backend: values.backend } : {}),
    ...(values['ebpf-dir'] ? { ebpfDir: values['ebpf-dir'] } : {}),
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
