/** Long-poll support for a store with a change index: callers wait until the next change, or a timeout. */
export class Waiters {
  private readonly waiting = new Set<() => void>();

  /** Resolves at the next `wakeAll()`, or after `timeoutMs`. */
  wait(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.waiting.delete(done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      this.waiting.add(done);
    });
  }

  wakeAll(): void {
    for (const w of [...this.waiting]) w();
  }
}
