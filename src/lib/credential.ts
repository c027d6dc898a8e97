/**
 * A node's credential for the controller as its processes hold it: a random bearer token in a file
 * of the node's folder (/run/cnilab/LAB/nodes/NODE/credential, mode 0600), never in argv, the
 * environment or a log. Clients are given the file's path and read it at each request, so a token
 * issued after the process started (or issued again) is picked up; src/controller/auth/ verifies it.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { CnilabError } from './errors';

/** A new token: 32 random bytes, base64url, prefixed so a token found in a file says what it is. */
export function newToken(): string {
  return `cnilab1_${randomBytes(32).toString('base64url')}`;
}

/** The token in `file`, or undefined when there is none (no file yet: the request goes without, and gets 401). */
export function readCredential(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8').trim() || undefined;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new CnilabError('INVALID_INPUT', `credential: cannot read ${file}: ${(e as Error).message}`, { cause: e });
  }
}

/** Writes `token` to `file`, mode 0600 from its first byte, replacing what was there in one rename. */
export function writeCredential(file: string, token: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${token}\n`, { mode: 0o600, flag: 'wx' });
  renameSync(tmp, file);
}
