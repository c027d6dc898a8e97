/**
 * The lab's processes — the controller on the control node, whatever a control plane runs on the
 * compute nodes — each inside its node's namespace, each logging to RUN_DIR/logs/. They get a
 * minimal environment (PATH only): nothing of the user's shell (NODE_OPTIONS, NODE_EXTRA_CA_CERTS,
 * …) changes how they run or how long they take to start.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { CnilabError } from '../lib/errors';
import { isAlive, sleep, startDaemon } from '../lib/exec';
import { httpJson } from '../lib/http-json';
import { CONTROLLER_MAIN } from '../lib/paths';
import { apiserverArgs } from '../apiserver/service';
import type { Topology } from '../topology/schema';
import { adminCredentialFile, controllerAuthArgs } from './credentials';
import { nodeNetns, runDir } from './names';
import type { ProcessState } from './state';

export const CONTROLLER_PORT = 2379;
/** The controller's role in the lab's record (state.json's processes). */
export const CONTROLLER_ROLE = 'controller';
const START_TIMEOUT_MS = 30_000;

/** The environment of every process and plugin the lab starts. */
export function labEnv(): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin' };
}

export { nodeDir } from './names';

/**
 * Starts `command args` (default command: this Node) in the node's namespace, logging to
 * logs/ROLE-NODE.log. `ip netns exec` gives it a mount namespace of its own (with the node's
 * /sys); `sharedMounts` enters the network namespace only, for a process that itself creates
 * named namespaces the host must see (the Kuryr daemon's routers). `env` adds to the lab's.
 */
export function startInNode(
  lab: string,
  node: string,
  role: string,
  args: string[],
  o: { command?: string; env?: NodeJS.ProcessEnv; sharedMounts?: boolean } = {},
): ProcessState {
  const { command = process.execPath, env = {}, sharedMounts = false } = o;
  const log = join(runDir(lab), 'logs', `${role}-${node}.log`);
  mkdirSync(join(runDir(lab), 'logs'), { recursive: true });
  const ns = nodeNetns(lab, node);
  const argv = sharedMounts
    ? (['nsenter', [`--net=/run/netns/${ns}`, '--', command, ...args]] as const)
    : (['ip', ['netns', 'exec', ns, command, ...args]] as const);
  const d = startDaemon(argv[0], argv[1], log, { ...labEnv(), ...env });
  return { pid: d.pid, role, node, log };
}

/** The controller's Unix socket: how the lab's tools reach its services from outside the namespaces. */
export function controllerSocket(lab: string): string {
  return join(runDir(lab), 'controller.sock');
}

/**
 * A request to the controller's services over its Unix socket: how the lab's tools reach them, as the
 * lab's administrator (its credential file, when the lab has one: lab/credentials.ts).
 */
export function controlRequest<T>(
  lab: string,
  method: 'GET' | 'POST' | 'PUT' | 'DELETE',
  path: string,
  body?: unknown,
): Promise<{ status: number; body: T }> {
  return httpJson<T>(`http://controller${path}`, {
    method,
    body,
    socketPath: controllerSocket(lab),
    credential: adminCredentialFile(lab),
  });
}

/**
 * `controlRequest`, asked again while the controller does not answer or answers 5xx (it may be
 * restarting), within poll's bound; fails early when one of `procs` died (and was not restarted).
 */
export function controlRequestAnswered<T>(
  lab: string,
  method: 'GET' | 'POST' | 'PUT' | 'DELETE',
  path: string,
  body: unknown,
  procs: readonly ProcessState[],
  signal?: AbortSignal,
): Promise<{ status: number; body: T }> {
  return poll(
    `the controller answering ${method} ${path}`,
    () =>
      controlRequest<T>(lab, method, path, body).then(
        (r) => (r.status >= 500 ? undefined : r),
        () => undefined,
      ),
    procs,
    signal,
  );
}

/**
 * The control node's process, the controller, serving the services `serviceArgs` ask for: each
 * kind's control plane passes its own (its service's `…ServiceArgs`), so a lab serves only those.
 * It checks credentials when the lab does (lab/credentials.ts); the nodes get theirs from
 * `issueCredentials` (lab/node-credentials.ts) once it answers.
 */
export function startController(topology: Topology, serviceArgs: readonly string[]): ProcessState {
  const lab = topology.name;
  const control = topology.nodes.find((n) => n.role === 'control')!;
  return startInNode(lab, control.name, CONTROLLER_ROLE, [
    CONTROLLER_MAIN,
    '--listen',
    control.underlayIp,
    '--port',
    String(CONTROLLER_PORT),
    '--socket',
    controllerSocket(lab),
    ...controllerAuthArgs(lab),
    ...serviceArgs,
    // the lab's own service, whatever the kind: pods with their labels, and Services (lab/services.ts)
    ...apiserverArgs(topology, join(runDir(lab), 'apiserver.db')),
  ]);
}

/** The controller's URL as the nodes reach it, over the underlay. */
export function controllerUrl(topology: Topology): string {
  return `http://${topology.nodes.find((n) => n.role === 'control')!.underlayIp}:${CONTROLLER_PORT}`;
}

/**
 * restartProcess's note, beside the logs, that `old` is being restarted (empty) or was, by the PID
 * it holds: how a poll that watches `old` knows that its death is a restart, not a failure.
 */
export function restartNote(old: ProcessState): string {
  return join(dirname(old.log), `restarted-${old.pid}`);
}

/** What restartProcess writes first: `restarting by PID` (the restarting process), then the successor's PID. */
export const restartingBy = (pid: number): string => `restarting by ${pid}`;

/**
 * `p` lives, is being restarted by a process that lives, or its successor (restartProcess's, and
 * theirs) lives. A note whose restarter died before it was done says nothing: `p` died.
 */
function serving(p: ProcessState, depth = 0): boolean {
  if (isAlive(p.pid)) return true;
  let note: string;
  try {
    note = readFileSync(restartNote(p), 'utf8').trim();
  } catch {
    return false;
  }
  const by = /^restarting by (\d+)$/.exec(note);
  if (by) return isAlive(Number(by[1]));
  return /^\d+$/.test(note) && depth < 20 && serving({ ...p, pid: Number(note) }, depth + 1);
}

/**
 * Polls until `ready` returns a value; fails early, naming the log, when a lab process died — not
 * when it is being restarted or was (the controller SIGKILLed and restarted while a node joins).
 */
export async function poll<T>(
  what: string,
  ready: () => T | undefined | Promise<T | undefined>,
  procs: readonly ProcessState[],
  signal?: AbortSignal,
  timeoutMs = START_TIMEOUT_MS,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await ready();
    if (value !== undefined) return value;
    const dead = procs.find((p) => !serving(p));
    if (dead)
      throw new CnilabError(
        'AGENT_FAILED',
        `${dead.role} on ${dead.node} exited during start-up: ${lastLine(dead.log)} (log: ${dead.log})`,
      );
    if (Date.now() > deadline)
      throw new CnilabError(
        'AGENT_FAILED',
        `${what} did not happen within ${timeoutMs / 1000} s ` + `(logs: ${procs[0] ? join(procs[0].log, '..') : ''})`,
      );
    await sleep(10, signal);
  }
}

function lastLine(file: string): string {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').slice(-1)[0] ?? '';
  } catch {
    return '(no log)';
  }
}
