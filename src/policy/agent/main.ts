#!/usr/bin/env node
/**
 * The policy agent as a process: one per compute node of a lab whose kind enforces NetworkPolicy
 * (ControlPlane.policy), in the node's namespace, running the design the topology's
 * policyDataplane names (the kind's first by default).
 */
import { architectures } from '../../arch';
import { NODE_OPTIONS, runDaemon } from '../../node/daemon';
import { runPolicyAgent } from './agent';

runDaemon({
  name: 'cnilab-policy',
  options: {
    ...NODE_OPTIONS,
    /** The controller's URL. */
    controller: { type: 'string' },
    /** The lab's architecture: its kind offers the designs. */
    arch: { type: 'string' },
    /** The design (one of the kind's: iptables, nftables, ebpf). */
    design: { type: 'string' },
    /** The node's network namespace. */
    netns: { type: 'string' },
    /** The design's own folder (for ebpf: the node's folder of the kind's bpffs). Default: --run-dir. */
    'state-dir': { type: 'string' },
  },
  required: ['controller', 'node', 'arch', 'design', 'netns', 'run-dir'],
  run: async (values, ctx) => {
    const designs = architectures.has(values.arch!)
      ? (architectures.get(values.arch!).control.policy?.designs ?? [])
      : [];
    const design = designs.find((d) => d.name === values.design);
    if (!design)
      ctx.usage(
        `--design: ${values.arch} enforces no policy design ${values.design}; known: ${designs.map((d) => d.name).join(', ') || 'none'}`,
      );
    await runPolicyAgent(
      {
        controller: values.controller!,
        node: values.node!,
        design: design!,
        where: { netns: values.netns!, dir: values['state-dir'] ?? values['run-dir']! },
        runDir: values['run-dir']!,
        ...(values.credential ? { credential: values.credential } : {}),
        log: ctx.log,
      },
      ctx.signal,
    );
  },
});
