/**
 * The API server's NetworkPolicies: a table of the store's SQLite file (one row per policy, its
 * validated object as JSON), kept in memory by key. `apply` is kubectl's: each policy created or
 * replaced, all in one transaction at one revision (none when nothing changed); `delete` all or
 * none. A node's share of them — what its policy agent programs — is resolved on each read
 * (policy/resolve.ts): 10,000 policies over a lab's pods take milliseconds.
 */
import type Database from 'better-sqlite3';
import { CnilabError } from '../lib/errors';
import { policyKey, type NetworkPolicy, type PolicyInput } from '../policy/model';
import { resolveFor } from '../policy/resolve';
import type { Pod } from './model';

export type ApplyOutcome = 'created' | 'configured' | 'unchanged';

export interface ApplyResult {
  readonly revision: number;
  readonly applied: readonly { readonly key: string; readonly outcome: ApplyOutcome }[];
}

export class PolicyTable {
  private readonly byKey = new Map<string, NetworkPolicy>();
  private readonly text = new Map<string, string>();

  constructor(
    private readonly db: Database.Database,
    /** Runs `body` in the store's transaction; `stamp()` inside it gives the change's revision. */
    private readonly change: <T>(body: (stamp: () => number) => T) => T,
    private readonly revision: () => number,
  ) {
    db.exec('CREATE TABLE IF NOT EXISTS policies (key TEXT PRIMARY KEY, spec TEXT NOT NULL, rev INTEGER NOT NULL)');
    for (const r of db.prepare('SELECT key, spec FROM policies').all() as { key: string; spec: string }[]) {
      this.byKey.set(r.key, JSON.parse(r.spec) as NetworkPolicy);
      this.text.set(r.key, r.spec);
    }
  }

  list(): { revision: number; policies: NetworkPolicy[] } {
    return { revision: this.revision(), policies: [...this.byKey.keys()].sort().map((k) => this.byKey.get(k)!) };
  }

  get(key: string): NetworkPolicy | undefined {
    return this.byKey.get(key);
  }

  apply(policies: readonly NetworkPolicy[]): ApplyResult {
    return this.change((stamp) => {
      const upsert = this.db.prepare(
        'INSERT INTO policies VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET spec = excluded.spec, rev = excluded.rev',
      );
      const applied = policies.map((p) => {
        const key = policyKey(p);
        const json = JSON.stringify(p);
        const old = this.text.get(key);
        if (old === json) return { key, outcome: 'unchanged' as const };
        upsert.run(key, json, stamp());
        this.byKey.set(key, p);
        this.text.set(key, json);
        return { key, outcome: old === undefined ? ('created' as const) : ('configured' as const) };
      });
      return { revision: this.revision(), applied };
    });
  }

  /** Removes `keys` ("namespace/name"), all or none: one not there → NOT_FOUND naming it. */
  delete(keys: readonly string[]): { revision: number; deleted: string[] } {
    return this.change((stamp) => {
      keys.forEach((k, i) => {
        if (!this.byKey.has(k)) throw new CnilabError('NOT_FOUND', `keys.${i}: NetworkPolicy ${k}: no such policy`);
      });
      const del = this.db.prepare('DELETE FROM policies WHERE key = ?');
      for (const k of new Set(keys)) {
        stamp();
        del.run(k);
        this.byKey.delete(k);
        this.text.delete(k);
      }
      return { revision: this.revision(), deleted: [...new Set(keys)] };
    });
  }

  /** Node `node`'s share at the store's revision. */
  input(node: string, pods: readonly Pod[]): PolicyInput {
    return resolveFor(node, this.revision(), [...this.byKey.values()], pods);
  }
}
