#!/usr/bin/env node
/** The proxy agent as a process: one per compute node of a lab with --proxy, in the node's namespace. */
import { NODE_OPTIONS, runDaemon } from '../../node/daemon';
import { proxyModes } from '../index';
import { runProxyAgent } from './agent';

runDaemon({
  name: 'cnilab-proxy',
  options: {
    ...NODE_OPTIONS,
    /** The controller's URL. */
    controller: { type: 'string' },
    /** The proxy mode (src/proxy/index.ts). */
    mode: { type: 'string' },
    /** The node's network namespace, as the mode's commands name it. */
    netns: { type: 'string' },
    /** The mode's own folder (on a bpffs for a mode that pins). Default: --run-dir. */
    'state-dir': { type: 'string' },
  },
  required: ['controller', 'node', 'mode', 'netns', 'run-dir'],
  run: async (values, ctx) => {
    if (!proxyModes.has(values.mode!))
      ctx.usage(`--mode: unknown proxy ${values.mode}; known: ${proxyModes.names().join(', ')}`);
    await runProxyAgent(
      {
        controller: values.controller!,
        node: values.node!,
        mode: proxyModes.get(values.mode!),
        where: { netns: values.netns!, dir: values['state-dir'] ?? values['run-dir']! },
        runDir: values['run-dir']!,
        ...(values.credential ? { credential: values.credential } : {}),
        log: ctx.log,
      },
      ctx.signal,
    );
  },
});
