/**
 * Where a lab keeps the credentials its controller checks (src/controller/auth/), and whether it
 * checks them at all. All live in the lab's run folder, never in a run's --out folder:
 *   RUN_DIR/admin.credential          the administrator's token (the CLI's), mode 0600
 *   RUN_DIR/credentials.db            the controller's store: the tokens' hashes only
 *   RUN_DIR/nodes/NODE/credential     the node's token, mode 0600, read by the node's processes
 *
 * A lab checks credentials when its administrator's credential exists: `up` makes it, once, for
 * every new lab (`chooseControlAuth`), and every start of its controller after — a restart too —
 * follows the file. The one way around it is the benchmark's: CNILAB_BENCH_CONTROL_AUTH=off in
 * the CLI's environment at `up` makes a lab whose controller never checks (bench/control-auth.ts
 * measures what the checks cost).
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { newToken, writeCredential } from '../lib/credential';
import { nodeDir, runDir } from './names';

/** The benchmark's switch: "off" in the CLI's environment starts a lab whose controller checks nothing. */
export const BENCH_AUTH_OFF_ENV = 'CNILAB_BENCH_CONTROL_AUTH';

export const adminCredentialFile = (lab: string): string => join(runDir(lab), 'admin.credential');
export const credentialStoreFile = (lab: string): string => join(runDir(lab), 'credentials.db');
/** What each of a node's processes is given (--credential, a plugin's `credential`): the path, never the token. */
export const credentialFile = (lab: string, node: string): string => join(nodeDir(lab, node), 'credential');

/** True when the lab's controller checks credentials. */
export function checksCredentials(lab: string): boolean {
  return existsSync(adminCredentialFile(lab));
}

/**
 * Decides, once, as lab `lab` is made, whether its controller checks credentials: it does (the
 * administrator's token is made, mode 0600) unless the benchmark's switch is off.
 */
export function chooseControlAuth(lab: string, env: NodeJS.ProcessEnv = process.env): void {
  if (env[BENCH_AUTH_OFF_ENV] === 'off' || existsSync(adminCredentialFile(lab))) return;
  mkdirSync(runDir(lab), { recursive: true });
  writeCredential(adminCredentialFile(lab), newToken());
}

/** The controller's flags for credentials: the store's file and the administrator's, when the lab checks them. */
export function controllerAuthArgs(lab: string): string[] {
  const admin = adminCredentialFile(lab);
  if (!existsSync(admin)) return [];
  return ['--credentials', credentialStoreFile(lab), '--admin-credential', admin];
}
