#!/usr/bin/env node
/**
 * The ebpf architectures' node agent process: flannel's agent (leases, routes to the peers) with
 * the eBPF data path beside it, loaded into the node's folder of the lab's bpffs (agent.ts).
 */
import { runDaemon } from '../node/daemon';
import { FLANNEL_AGENT_OPTIONS, FLANNEL_AGENT_REQUIRED, runFlannelAgent } from '../flannel/agent/daemon';
import { startEbpf } from './agent';

runDaemon({
  name: 'cnilab-agent',
  options: {
    ...FLANNEL_AGENT_OPTIONS,
    /** The node's folder in the lab's bpffs. */
    'ebpf-dir': { type: 'string' },
  },
  required: [...FLANNEL_AGENT_REQUIRED, 'ebpf-dir'],
  run: (values, ctx) =>
    runFlannelAgent(values, ctx, async ({ iface, tunnels, log }, signal) => {
      const ebpf = await startEbpf({ dir: values['ebpf-dir']!, underlay: iface, tunnels: tunnels ?? [], log }, signal);
      return { running: ebpf.sweeping };
    }),
});
