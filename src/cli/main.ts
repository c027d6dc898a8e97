#!/usr/bin/env node
import { Command } from 'commander';
import { VERSION } from './context';
import { registerCni } from './commands/cni';
import { registerDoctor } from './commands/doctor';
import { registerDown } from './commands/down';
import { registerExec } from './commands/exec';
import { registerNode, registerRestart } from './commands/node';
import { registerCompare, registerReport } from './commands/report';
import { registerRun } from './commands/run';
import { registerPod, registerService } from './commands/service';
import { registerPolicy } from './commands/policy';
import { registerStatus } from './commands/status';
import { registerUp } from './commands/up';

// A reader that went away (a closed pipe) must not end the command halfway through its clean-up:
// what it would have printed is lost, what it created is still removed.
for (const stream of [process.stdout, process.stderr]) stream.on('error', () => undefined);

const program = new Command('cnilab')
  .description('A lab and benchmark for container networking: CNI architectures on network namespaces')
  .version(VERSION)
  .showHelpAfterError('(run cnilab help for usage)');
for (const register of [
  registerRun,
  registerReport,
  registerCompare,
  registerUp,
  registerStatus,
  registerExec,
  registerNode,
  registerRestart,
  registerDown,
  registerDoctor,
  registerCni,
  registerService,
  registerPolicy,
  registerPod,
])
  register(program);
program.parseAsync(process.argv).catch((e: unknown) => {
  process.stderr.write(`cnilab: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 2;
});
