/** The flannel agent as a process: its flags and how they make its options (main.ts runs it). */
import { NODE_OPTIONS, type DaemonContext, type DaemonValues } from '../../node/daemon';
import { runAgent, type DatapathHook } from './agent';

export const FLANNEL_AGENT_OPTIONS = {
  ...NODE_OPTIONS,
  /** The controller's URL. */
  store: { type: 'string' },
  /** Run this backend instead of the network's (udp and udp-offload interoperate). */
  backend: { type: 'string' },
} as const;
export const FLANNEL_AGENT_REQUIRED = ['store', 'node', 'run-dir'] as const;

/** Runs the agent for `values`; an architecture built on flannel's may add its data path. */
export function runFlannelAgent(
  values: DaemonValues<typeof FLANNEL_AGENT_OPTIONS>,
  { signal, log }: DaemonContext,
  datapath?: DatapathHook,
): Promise<void> {
  return runAgent(
    {
      store: values.store!,
      node: values.node!,
      iface: values.iface,
      runDir: values['run-dir']!,
      ...(values.credential ? { credential: values.credential } : {}),
      ...(values.backend ? { backend: values.backend } : {}),
      ...(datapath ? { datapath } : {}),
      log,
    },
    signal,
  );
}
