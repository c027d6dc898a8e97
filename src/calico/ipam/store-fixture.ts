/** The IPAM store's unit tests' fixture: a store in a temporary folder, both gone when the test ends. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IpamStore, type PoolConfig } from './store';

export type T = { after: (f: () => void) => void };

/** A temporary folder, removed after the test. */
export function tmp(t: T): string {
  const dir = mkdtempSync(join(tmpdir(), 'cnilab-ipam-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** The store in `file`, closed after the test unless the test closed it. */
export function openStore(t: T, file: string, config: PoolConfig): IpamStore {
  const s = new IpamStore(file, config);
  t.after(() => {
    try {
      s.close();
    } catch {
      /* closed by the test */
    }
  });
  return s;
}
