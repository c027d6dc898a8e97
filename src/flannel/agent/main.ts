#!/usr/bin/env node
/** The node agent process: runs inside its compute node's namespace (see agent.ts). */
import { runDaemon } from '../../node/daemon';
import { FLANNEL_AGENT_OPTIONS, FLANNEL_AGENT_REQUIRED, runFlannelAgent } from './daemon';

runDaemon({
  name: 'cnilab-agent',
  options: FLANNEL_AGENT_OPTIONS,
  required: FLANNEL_AGENT_REQUIRED,
  run: (values, ctx) => runFlannelAgent(values, ctx),
});
