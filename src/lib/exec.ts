/**
 * The only module that starts programs. Argument arrays only — never a shell, never a
 * concatenated command line. Every result carries command, args, exit code, output and duration.
 */
import type { ChildProcess } from 'node:child_process';

/**
 * node:child_process, loaded on first use: a CNI plugin's ADD starts no process (its kernel work is
 * netlink), and loading the module costs a plugin under Bun ~3 ms of start-up.
 */
function childProcess(): typeof import('node:child_process') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- lazy, see above
  return require('node:child_process') as typeof import('node:child_process');
}
import { openSync, closeSync, readFileSync } from 'node:fs';
import { CnilabError } from './errors';

export interface ExecResult {
  readonly command: string;
  readonly args: readonly string[];
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly durationMs: number;
}

export interface ExecOptions {
  /** Written to the child's stdin, then closed. Default: no input (stdin is /dev/null). */
  readonly input?: string;
  /** The child's whole environment. Default: this process's environment. */
  readonly env?: NodeJS.ProcessEnv;
  /** Kills the child (SIGKILL) when aborted; the promise rejects with code ABORTED. */
  readonly signal?: AbortSignal;
  /** Kills the child after this many milliseconds; rejects with EXEC_TIMEOUT. Default: none. */
  readonly timeoutMs?: number;
  /** Reject when the exit code is not 0. Default: true. */
  readonly check?: boolean;
  /** Called with each chunk of standard output as it arrives (to act on what a tool says it does). */
  readonly onStdout?: (chunk: string) => void;
}

export function describeCommand(command: string, args: readonly string[]): string {
  return [command, ...args].map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : JSON.stringify(a))).join(' ');
}

export function run(command: string, args: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    if (options.signal?.aborted) {
      reject(new CnilabError('ABORTED', `not started (aborted): ${describeCommand(command, args)}`));
      return;
    }
    const child = childProcess().spawn(command, args, {
      env: options.env ?? process.env,
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout!.on('data', (b: Buffer) => {
      out.push(b);
      options.onStdout?.(b.toString('utf8'));
    });
    child.stderr!.on('data', (b: Buffer) => err.push(b));
    let failure: CnilabError | undefined;
    const onAbort = (): void => {
      failure = new CnilabError('ABORTED', `aborted: ${describeCommand(command, args)}`);
      child.kill('SIGKILL');
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const timer =
      options.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            failure = new CnilabError(
              'EXEC_TIMEOUT',
              `timed out after ${options.timeoutMs} ms: ${describeCommand(command, args)}`,
            );
            child.kill('SIGKILL');
          }, options.timeoutMs);
    child.on('error', (e: NodeJS.ErrnoException) => {
      failure ??=
        e.code === 'ENOENT'
          ? new CnilabError(
              'EXEC_NOT_FOUND',
              `${command}: not found on PATH; install it (scripts/setup.sh installs every dependency)`,
              { cause: e },
            )
          : new CnilabError('EXEC_FAILED', `${describeCommand(command, args)}: ${e.message}`, { cause: e });
    });
    child.on('close', (code, sig) => {
      if (timer) clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      const result: ExecResult = {
        command,
        args,
        code: code ?? (sig ? 128 : 1),
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        durationMs: performance.now() - started,
      };
      if (failure) reject(failure);
      else if (result.code !== 0 && options.check !== false) reject(execError(result));
      else resolve(result);
    });
    if (options.input !== undefined) {
      child.stdin!.on('error', () => undefined); // the child may exit without reading
      child.stdin!.end(options.input);
    }
  });
}

export function execError(r: ExecResult): CnilabError {
  const detail = r.stderr.trim().split('\n').slice(-3).join(' | ') || r.stdout.trim().split('\n').slice(-1)[0] || '';
  const err = new CnilabError(
    'EXEC_FAILED',
    `${describeCommand(r.command, r.args)} exited ${r.code}${detail ? `: ${detail}` : ''}`,
  );
  return Object.assign(err, { result: r });
}

export interface Daemon {
  readonly pid: number;
  readonly child: ChildProcess;
}

/**
 * Starts a long-running process that outlives this one (an agent, a store), its output appended to
 * `logFile`. The caller records the PID; stopping is by that PID only.
 */
export function startDaemon(
  command: string,
  args: readonly string[],
  logFile: string,
  env?: NodeJS.ProcessEnv,
): Daemon {
  const fd = openSync(logFile, 'a');
  try {
    const child = childProcess().spawn(command, args, {
      detached: true,
      stdio: ['ignore', fd, fd],
      env: env ?? process.env,
    });
    if (child.pid === undefined)
      throw new CnilabError('EXEC_FAILED', `could not start ${describeCommand(command, args)}`);
    child.unref();
    return { pid: child.pid, child };
  } finally {
    closeSync(fd);
  }
}

/**
 * Starts a server (iperf3 -s, sockperf server) whose output nobody reads; the caller stops it by
 * PID (stopPid). Throws EXEC_FAILED when it could not be started.
 */
export function startServer(command: string, args: readonly string[]): { readonly pid: number } {
  const child = childProcess().spawn(command, args, { stdio: 'ignore' });
  if (child.pid === undefined)
    throw new CnilabError('EXEC_FAILED', `could not start ${describeCommand(command, args)}`);
  return { pid: child.pid };
}

/**
 * Starts a program whose output the caller reads as it comes (a ping it watches) and which it
 * signals itself: its stdout and stderr piped. Throws EXEC_FAILED when it could not be started.
 */
export function startWatched(command: string, args: readonly string[]): import('node:child_process').ChildProcess {
  const child = childProcess().spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  if (child.pid === undefined)
    throw new CnilabError('EXEC_FAILED', `could not start ${describeCommand(command, args)}`);
  return child;
}

/** Runs a program on this terminal (stdin, stdout and stderr its own) and waits for it: its exit code. */
export function runAttached(command: string, args: readonly string[]): number {
  const r = childProcess().spawnSync(command, args, { stdio: 'inherit' });
  if (r.error)
    throw new CnilabError('EXEC_FAILED', `${describeCommand(command, args)}: ${r.error.message}`, { cause: r.error });
  return r.status ?? 1;
}

/** True while a process with this PID runs (a zombie, exited but not yet reaped, does not). */
export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.charAt(stat.lastIndexOf(')') + 2) !== 'Z';
  } catch {
    return false;
  }
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. Tolerates "already gone". */
export async function stopPid(pid: number, graceMs = 1000): Promise<void> {
  const signal = (s: NodeJS.Signals): void => {
    try {
      process.kill(pid, s);
    } catch {
      /* already gone */
    }
  };
  signal('SIGTERM');
  const deadline = Date.now() + graceMs;
  while (isAlive(pid)) {
    if (Date.now() > deadline) {
      signal('SIGKILL');
      if (Date.now() > deadline + 2000) break;
    }
    await sleep(10);
  }
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new CnilabError('ABORTED', 'aborted'));
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(t);
      reject(new CnilabError('ABORTED', 'aborted'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
