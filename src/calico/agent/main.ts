#!/usr/bin/env node
/** The calico node agent process: runs inside its compute node's namespace (see agent.ts). */
import { NODE_OPTIONS, runDaemon } from '../../node/daemon';
import { CALICO_MODES, type CalicoMode } from '../ipam/store';
import { runCalicoAgent } from './agent';

runDaemon({
  name: 'cnilab-calico-agent',
  options: {
    ...NODE_OPTIONS,
    /** The controller's URL. */
    store: { type: 'string' },
    mode: { type: 'string' },
    /** Calico's WireGuard mode on top of --mode. */
    wireguard: { type: 'boolean' },
  },
  required: ['store', 'node', 'run-dir', 'mode'],
  run: (values, { signal, log, usage }) => {
    if (!(CALICO_MODES as readonly string[]).includes(values.mode!))
      usage(`--mode: ${JSON.stringify(values.mode)} is not one of ${CALICO_MODES.join(', ')}`);
    return runCalicoAgent(
      {
        store: values.store!,
        node: values.node!,
        iface: values.iface,
        runDir: values['run-dir']!,
        mode: values.mode as CalicoMode,
        log,
        ...(values.credential ? { credential: values.credential } : {}),
        ...(values.wireguard ? { wireguard: true } : {}),
      },
      signal,
    );
  },
});
