/**
 * The skeleton every long-running process of a lab shares — the controller and the node agents:
 * its flags parsed strictly, the required ones checked, SIGTERM and SIGINT turned into an abort
 * signal, and one meaning for the exit code, which the lab reads when a process dies:
 *   0  stopped by a signal, or done;  1  failed (the reason on stderr);  2  refused its flags.
 * The daemon's `run` works until the signal aborts and tidies up before it returns.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { messageOf } from '../lib/errors';

type Options = NonNullable<ParseArgsConfig['options']>;
export type DaemonValues<O extends Options> = ReturnType<typeof parseArgs<{ options: O }>>['values'];

export interface DaemonContext {
  /** Aborts on SIGTERM or SIGINT. */
  readonly signal: AbortSignal;
  /** One timestamped line on stdout. */
  log(line: string): void;
  /** Refuses to start: `message` on stderr, exit 2. */
  usage(message: string): never;
}

export interface Daemon<O extends Options> {
  /** The process's name, the first word of what it prints: cnilab-agent, kuryr-daemon, … */
  readonly name: string;
  readonly options: O;
  /** Flags it cannot start without. */
  readonly required?: readonly (keyof O & string)[];
  run(values: DaemonValues<O>, ctx: DaemonContext): Promise<void>;
}

/** The flags every node agent takes: which node it runs on, its underlay interface, where its files go. */
export const NODE_OPTIONS = {
  node: { type: 'string' },
  /** Default: eth0. */
  iface: { type: 'string', default: 'eth0' },
  'run-dir': { type: 'string' },
  /**
   * The file holding the node's credential for the controller (its folder's `credential`, mode
   * 0600): its path, never the token. Default: none, for a controller that checks no credentials.
   */
  credential: { type: 'string' },
} as const;

class UsageError extends Error {}

/** Runs `daemon` as this process, which ends with its exit code. */
export function runDaemon<O extends Options>(daemon: Daemon<O>): void {
  const fail = (code: number, message: string): never => {
    console.error(`${daemon.name}: ${message}`);
    process.exit(code);
  };
  let values: DaemonValues<O>;
  try {
    values = parseArgs({ options: daemon.options }).values;
  } catch (e) {
    return fail(2, messageOf(e));
  }
  const given = values as Record<string, unknown>;
  for (const k of daemon.required ?? []) if (!given[k]) fail(2, `--${k} is required`);
  const abort = new AbortController();
  process.on('SIGTERM', () => abort.abort());
  process.on('SIGINT', () => abort.abort());
  const ctx: DaemonContext = {
    signal: abort.signal,
    log: (line) => console.log(`${new Date().toISOString()} ${daemon.name}: ${line}`),
    usage: (message) => {
      throw new UsageError(message);
    },
  };
  daemon.run(values, ctx).then(
    () => process.exit(0),
    (e: unknown) => {
      if (e instanceof UsageError) fail(2, e.message);
      if (abort.signal.aborted) process.exit(0);
      fail(1, messageOf(e));
    },
  );
}

/** Resolves when `signal` aborts: what a serving daemon's `run` awaits before it tidies up. */
export function stopped(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
}
