#!/usr/bin/env node
/** The node agent process: runs inside its compute node's namespace (see agent.ts). */
import { NODE_OPTIONS, runDaemon } from '../../node/daemon';
import { runAgent } from './agent';

runDaemon({
  name: 'cnilab-agent',
  options: {
    ...NODE_OPTIONS,
    /** The controller's URL. */
    store: { type: 'string' },
    backend: { type: 'string' },
    'ebpf-dir': { type: 'string' },
  },
  required: ['store', 'node', 'run-dir'],
  run: (values, { signal, log }) =>
    runAgent(
      {
        store: values.store!,
        node: values.node!,
        iface: values.iface,
        runDir: values['run-dir']!,
        ...(values.backend ? { backend: values.backend } : {}),
        ...(values['ebpf-dir'] ? { ebpfDir: values['ebpf-dir'] } : {}),
        log,
      },
      signal,
    ),
});
