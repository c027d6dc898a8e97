/**
 * The controller's credentials: one random bearer token per principal — each node, and the lab's
 * administrator (the CLI) — of which the controller keeps only the SHA-256, in its own SQLite file
 * (WAL, synchronous=FULL, like the stores), so a restarted controller still knows every node and a
 * stolen copy of the file lets no one in.
 *
 * Why a token and not TLS client certificates: the controller and its clients are processes of one
 * host, in namespaces joined by one bridge; the threat issue 31 names is a node writing another
 * node's objects, not an eavesdropper on the underlay. A 256-bit token read from a 0600 file
 * answers that with one hash and one indexed lookup per request; client certificates would add a
 * lab CA, a key and certificate per node and a TLS handshake to every short-lived CNI plugin process
 * (every pod ADD), which the attach benchmark would measure. A plain hash is enough because the
 * token is random (256 bits): there is nothing to brute-force, so no slow KDF. When the lab spans
 * hosts, TLS (for confidentiality on the wire) is the next step; the principals and rules stay.
 */
import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { newToken } from '../../lib/credential';
import { CnilabError } from '../../lib/errors';

/** Who a request comes from: the lab's administrator, or one node. */
export type Principal = { readonly admin: true } | { readonly node: string };

export const ADMIN: Principal = { admin: true };

const NODE = /^[a-z][a-z0-9-]{0,14}$/;
const ADMIN_KEY = '@admin';

/** How a principal is kept: '@admin' or the node's name (a node name never starts with @). */
function keyOf(p: Principal): string {
  if ('admin' in p) return ADMIN_KEY;
  if (!NODE.test(p.node)) throw new CnilabError('INVALID_INPUT', `node: ${JSON.stringify(p.node)} is not a node name`);
  return p.node;
}

/** "the administrator" or "node node1": for messages. */
export function describe(p: Principal): string {
  return 'admin' in p ? 'the administrator' : `node ${p.node}`;
}

/** The SHA-256 of a token, hex: all the store keeps. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

const SCHEMA = `CREATE TABLE IF NOT EXISTS credentials (
  principal TEXT PRIMARY KEY, hash TEXT NOT NULL UNIQUE, issued_at TEXT NOT NULL);`;

export class CredentialStore {
  private readonly db: Database.Database;

  constructor(file: string) {
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.exec(SCHEMA);
  }

  /** Issues `p` a new token (its old one stops working) and returns it: the only time it exists here. */
  issue(p: Principal): string {
    const token = newToken();
    this.keep(p, hashToken(token));
    return token;
  }

  /** Keeps the hash of a token made elsewhere: the administrator's, written by the lab before the controller starts. */
  accept(p: Principal, token: string): void {
    this.keep(p, hashToken(token));
  }

  /** Who holds `token`, or undefined for no token, one never issued or one revoked. */
  verify(token: string | undefined): Principal | undefined {
    if (!token) return undefined;
    const row = this.db.prepare('SELECT principal FROM credentials WHERE hash = ?').get(hashToken(token)) as
      { principal: string } | undefined;
    if (!row) return undefined;
    return row.principal === ADMIN_KEY ? ADMIN : { node: row.principal };
  }

  /** Revokes `p`'s token; true when it had one. */
  revoke(p: Principal): boolean {
    return this.db.prepare('DELETE FROM credentials WHERE principal = ?').run(keyOf(p)).changes > 0;
  }

  /** The nodes holding a token, sorted. */
  nodes(): string[] {
    return (this.db.prepare('SELECT principal FROM credentials ORDER BY principal').all() as { principal: string }[])
      .map((r) => r.principal)
      .filter((k) => k !== ADMIN_KEY);
  }

  close(): void {
    this.db.close();
  }

  private keep(p: Principal, hash: string): void {
    this.db
      .prepare(
        'INSERT INTO credentials VALUES (?, ?, ?) ON CONFLICT(principal) DO UPDATE SET hash = excluded.hash, ' +
          'issued_at = excluded.issued_at',
      )
      .run(keyOf(p), hash, new Date().toISOString());
  }
}
