/**
 * A bounded pool: at most `size` tasks run at once, the rest wait. One pool shared by every caller
 * bounds the work of all of them together (N nodes attaching pods at once get `size` slots between
 * them, not `size` each). A task may name a key (its node): a free slot goes to the waiting task
 * whose key has the fewest tasks running, earliest first — tasks of one key often serialise on a
 * lock of their own (a node's IPAM), so spreading the slots over keys keeps them all busy.
 */
export class Pool {
  private running = 0;
  private readonly perKey = new Map<string, number>();
  private readonly waiting: { key: string; start: () => void }[] = [];

  constructor(readonly size: number) {
    if (!(size >= 1)) throw new RangeError(`pool size must be at least 1, not ${size}`);
  }

  /** Runs `task` once a slot is free; the slot is given back when it settles. */
  async run<T>(task: () => Promise<T>, key = ''): Promise<T> {
    // A waiting task is handed its slot by next(), already counted: nobody can take it in between.
    if (this.running >= this.size) await new Promise<void>((start) => this.waiting.push({ key, start }));
    else this.take(key);
    try {
      return await task();
    } finally {
      this.running--;
      this.perKey.set(key, this.perKey.get(key)! - 1);
      this.next();
    }
  }

  private next(): void {
    if (this.waiting.length === 0 || this.running >= this.size) return;
    let best = 0;
    for (let i = 1; i < this.waiting.length; i++)
      if ((this.perKey.get(this.waiting[i]!.key) ?? 0) < (this.perKey.get(this.waiting[best]!.key) ?? 0)) best = i;
    const w = this.waiting.splice(best, 1)[0]!;
    this.take(w.key);
    w.start();
  }

  private take(key: string): void {
    this.running++;
    this.perKey.set(key, (this.perKey.get(key) ?? 0) + 1);
  }
}
