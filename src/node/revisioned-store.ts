/**
 * The base of the controller's stores (flannel's leases, Kuryr's ports, Calico's IPAM blocks): one
 * SQLite file in WAL mode with synchronous=FULL, so a change is on disk before it is acknowledged
 * and a restarted controller loses nothing; a `meta` table holding the store's configuration and
 * its `index`, the revision every change peers see moves by one; and the waiters that long-poll
 * for an index above the one they saw. A subclass writes its changes inside `transaction` and
 * calls `bump` in those its watchers must see; they wake once the change has committed.
 */
import Database from 'better-sqlite3';
import { CnilabError } from '../lib/errors';
import { Waiters } from '../lib/waiters';

const META = 'CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);';

export interface StoreOptions {
  /** Enforce the schema's REFERENCES clauses. Default: false (SQLite's). */
  readonly foreignKeys?: boolean;
}

export abstract class RevisionedStore {
  protected readonly db: Database.Database;
  private readonly waiters = new Waiters();

  /** Opens (or creates) `file` with the subclass's `schema` beside the meta table. */
  protected constructor(file: string, schema: string, o: StoreOptions = {}) {
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    if (o.foreignKeys) this.db.pragma('foreign_keys = ON');
    this.db.exec(META + schema);
  }

  /** The revision: how many changes peers see this store has had. */
  get index(): number {
    return Number(this.meta('index') ?? 0);
  }

  /** Resolves when the index passes `index`, or after `timeoutMs`. */
  waitForChange(index: number, timeoutMs: number): Promise<void> {
    if (this.index > index || timeoutMs <= 0) return Promise.resolve();
    return this.waiters.wait(timeoutMs);
  }

  /** Wakes every watcher (they find the store gone) and closes the file. */
  close(): void {
    this.waiters.wakeAll();
    this.db.close();
  }

  /**
   * Keeps the configuration the store was made for: a new store saves `config`; a reopened one
   * asks `differs(saved)` why the saved one cannot be taken over, and refuses to open with that.
   */
  protected keepConfig<C>(config: C, differs: (saved: C) => string | undefined): void {
    const saved = this.meta('config');
    if (saved === undefined) this.setMeta('index', '0');
    else {
      const why = differs(JSON.parse(saved) as C);
      if (why) {
        this.db.close();
        throw new CnilabError('INVALID_INPUT', why);
      }
    }
    this.setMeta('config', JSON.stringify(config));
  }

  /** Runs `body` in one transaction: all of it is on disk, or none. */
  protected transaction<T>(body: () => T): T {
    return this.db.transaction(body)();
  }

  /** Inside a change: moves the index on. Watchers wake after the change has committed. */
  protected bump(): void {
    this.setMeta('index', String(this.index + 1));
    queueMicrotask(() => this.waiters.wakeAll());
  }

  /** Resolves at the next change, or after `timeoutMs`: for a subclass waiting on something it derives. */
  protected nextChange(timeoutMs: number): Promise<void> {
    return this.waiters.wait(timeoutMs);
  }

  private meta(key: string): string | undefined {
    return (this.db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as { value: string } | undefined)?.value;
  }

  private setMeta(key: string, value: string): void {
    this.db
      .prepare('INSERT INTO meta VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value')
      .run(key, value);
  }
}
