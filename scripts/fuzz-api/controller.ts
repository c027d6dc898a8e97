/**
 * The real controller process (dist/src/controller/main.js) for the API fuzzer: all three services
 * and credentials, in a temporary folder, inside a network namespace of the fuzzer's own
 * (cnilabfuzz-api-PID, only `lo` up), reached on its Unix socket. Nothing of the host's root
 * namespace changes. The name does not start with `cnilab-`: that prefix is a lab's (src/lab/names.ts),
 * and a `cnilab down --all` elsewhere on the machine took the fuzzer's namespace for a lab and
 * stopped its controller mid-run. `stop` ends that one process by its PID and removes the namespace and the
 * folder; it is safe to call twice, and from a SIGINT handler.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ipamServiceArgs } from '../../src/calico/ipam/service';
import { leaseServiceArgs } from '../../src/flannel/subnet/service';
import { neutronServiceArgs } from '../../src/kuryr/neutron/service';
import { newToken, writeCredential } from '../../src/lib/credential';
import { isAlive, sleep, startDaemon, stopPid } from '../../src/lib/exec';
import { addNetns, deleteNetns, inNetns } from '../../src/lib/netns';
import { CONTROLLER_MAIN } from '../../src/lib/paths';

/** The stores' settings, for reading their files back after the run. */
export const LEASES = { network: '10.244.0.0/16', subnetLength: 24, backend: { type: 'vxlan' } } as const;
export const POOL = { pool: '10.96.0.0/20', blockSize: 26, mode: 'vxlan' } as const;

export interface FuzzController {
  readonly pid: number;
  readonly netns: string;
  readonly dir: string;
  readonly socket: string;
  readonly files: { readonly leases: string; readonly ports: string; readonly ipam: string; readonly log: string };
  /** The administrator's token (also in dir/admin.credential, mode 0600; never in argv). */
  readonly admin: string;
  /** Stops the process (SIGTERM, then SIGKILL); the namespace and folder stay until `remove`. */
  stop(): Promise<void>;
  /** Stops it and removes the namespace and the folder. */
  remove(): Promise<void>;
}

export async function startController(): Promise<FuzzController> {
  const netns = `cnilabfuzz-api-${process.pid}`;
  const dir = mkdtempSync(join(tmpdir(), 'cnilab-fuzzapi-'));
  const files = {
    leases: join(dir, 'leases.db'),
    ports: join(dir, 'ports.db'),
    ipam: join(dir, 'ipam.db'),
    log: join(dir, 'controller.log'),
  };
  let pid: number | undefined;
  const stop = async (): Promise<void> => {
    if (pid !== undefined) await stopPid(pid);
  };
  const remove = async (): Promise<void> => {
    await stop();
    await deleteNetns(netns);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await addNetns(netns);
    const admin = newToken();
    writeCredential(join(dir, 'admin.credential'), admin);
    const socket = join(dir, 'controller.sock');
    const args = [
      CONTROLLER_MAIN,
      ...['--listen', '127.0.0.1', '--port', '2379', '--socket', socket],
      ...['--credentials', join(dir, 'credentials.db'), '--admin-credential', join(dir, 'admin.credential')],
      ...leaseServiceArgs(files.leases, LEASES.network, LEASES.subnetLength, LEASES.backend),
      ...neutronServiceArgs(files.ports, 1500),
      ...ipamServiceArgs(files.ipam, POOL),
    ];
    const [command, argv] = inNetns({ name: netns }, process.execPath, args);
    pid = startDaemon(command, argv, files.log).pid;
    for (let i = 0; i < 1000 && !existsSync(socket); i++) {
      if (!isAlive(pid)) throw new Error(`the controller exited at start: ${tail(files.log)}`);
      await sleep(10);
    }
    if (!existsSync(socket)) throw new Error(`the controller made no socket in 10 s: ${tail(files.log)}`);
    return { pid, netns, dir, socket, files, admin, stop, remove };
  } catch (e) {
    await remove();
    throw e;
  }
}

/** The last lines of a log, for a one-line reason. */
export function tail(file: string): string {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').slice(-3).join(' | ');
  } catch {
    return '(no log)';
  }
}
