/**
 * host-local's on-disk store, the reference layout: DATADIR/NETWORK/ holds one file per allocated
 * address, named by the address and holding "CONTAINERID\r\nIFNAME", and last_reserved_ip.N per
 * range set. A file is created with O_EXCL, so two concurrent ADDs can never take the same address.
 */
import { ipFamily } from '../../../lib/ip';
import { openSync, writeSync, closeSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { mkdirp, writeFileAtomic } from '../../../lib/fs';
import { join } from 'node:path';

const LINE_BREAK = '\r\n';

export class Store {
  readonly dir: string;

  constructor(dataDir: string, network: string) {
    if (network.includes('/') || network === '.' || network === '..')
      throw new Error(`network name ${JSON.stringify(network)} cannot name a directory`);
    this.dir = join(dataDir, network);
    mkdirp(this.dir);
  }

  /** Claims `ip` for the container; false when it is taken. */
  reserve(ip: string, containerId: string, ifName: string): boolean {
    let fd: number;
    try {
      fd = openSync(join(this.dir, ip), 'wx', 0o644);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw e;
    }
    try {
      writeSync(fd, `${containerId}${LINE_BREAK}${ifName}`);
    } finally {
      closeSync(fd);
    }
    return true;
  }

  /** Addresses held by this container and interface. */
  findByOwner(containerId: string, ifName: string): string[] {
    return this.allocations()
      .filter((a) => a.containerId === containerId && (a.ifName === ifName || a.ifName === undefined))
      .map((a) => a.ip);
  }

  allocations(): { ip: string; containerId: string; ifName?: string }[] {
    const out: { ip: string; containerId: string; ifName?: string }[] = [];
    for (const name of readdirSync(this.dir)) {
      if (ipFamily(name) === 0) continue;
      let text: string;
      try {
        text = readFileSync(join(this.dir, name), 'utf8');
      } catch {
        continue; // released meanwhile
      }
      const [containerId = '', ifName] = text.split(LINE_BREAK).map((s) => s.trim());
      out.push({ ip: name, containerId, ...(ifName ? { ifName } : {}) });
    }
    return out;
  }

  release(ip: string): void {
    rmSync(join(this.dir, ip), { force: true });
  }

  lastReserved(rangeSet: number): string | undefined {
    try {
      const v = readFileSync(join(this.dir, `last_reserved_ip.${rangeSet}`), 'utf8').trim();
      return ipFamily(v) !== 0 ? v : undefined;
    } catch {
      return undefined;
    }
  }

  setLastReserved(rangeSet: number, ip: string): void {
    writeFileAtomic(join(this.dir, `last_reserved_ip.${rangeSet}`), ip);
  }
}
