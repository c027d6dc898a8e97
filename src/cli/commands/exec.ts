import type { Command } from 'commander';
import { CnilabError } from '../../lib/errors';
import { inNetns } from '../../lib/netns';
import { runAttached } from '../../lib/exec';
import { nodeNetns } from '../../lab/names';
import { pickLab, requireState } from '../../lab/state';
import { runCommand } from '../context';

export function registerExec(program: Command): void {
  program
    .command('exec')
    .description("run a command inside a pod's (or a node's) network namespace")
    .argument('<pod>', 'pod name (see cnilab status), or a node name')
    .argument('<command...>', 'the command, after --')
    .option('--lab <name>', 'the lab (default: the only one up)')
    .usage('[--lab NAME] POD -- COMMAND [ARGS…]')
    .action((target: string, command: string[], o: { lab?: string }) =>
      runCommand(false, async () => {
        if (command.length === 0)
          throw new CnilabError(
            'INVALID_INPUT',
            'exec: give the command after --, e.g. cnilab exec node1-p1 -- ip addr',
          );
        const state = requireState(pickLab(o.lab));
        const pod = state.pods.find((p) => p.name === target);
        const node = state.topology.nodes.find((n) => n.name === target);
        if (!pod && !node) {
          throw new CnilabError(
            'POD_NOT_FOUND',
            `no pod or node ${JSON.stringify(target)} in lab ${state.lab}; pods: ` +
              `${state.pods.map((p) => p.name).join(', ') || '(none)'}`,
          );
        }
        const ns = pod ? pod.netns : nodeNetns(state.lab, node!.name);
        const [cmd, args] = inNetns({ name: ns }, command[0]!, command.slice(1));
        process.exitCode = runAttached(cmd, args);
      }),
    );
}
