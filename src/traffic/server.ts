/**
 * What the traffic tools share: a server the run starts in a lab namespace, and a command pinned
 * to a CPU.
 */
import { startServer, stopPid } from '../lib/exec';

/** A tool's server in a lab namespace; stopped by its PID. */
export interface ToolServer {
  readonly pid: number;
  stop(): Promise<void>;
}

/** `command args`, pinned to `cpu` with taskset when one is given. */
export const pinned = (cpu: number | undefined, command: string, args: readonly string[]): [string, string[]] =>
  cpu === undefined ? [command, [...args]] : ['taskset', ['-c', String(cpu), command, ...args]];

/** Starts `cmd args` in the background as a server, its output ignored (startServer). */
export function startToolServer(cmd: string, args: readonly string[]): ToolServer {
  const { pid } = startServer(cmd, args);
  return { pid, stop: () => stopPid(pid, 500) };
}
