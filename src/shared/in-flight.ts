/** Work a graceful shutdown waits for: promises tracked until they settle. */
export class InFlightWork {
  private readonly pending = new Set<Promise<unknown>>();

  /** Tracks `work` until it settles and returns it unchanged. */
  track<T>(work: Promise<T>): Promise<T> {
    this.pending.add(work);
    const settled = () => this.pending.delete(work);
    work.then(settled, settled);
    return work;
  }

  /**
   * True once nothing tracked is pending (work tracked while waiting included), false after
   * `timeoutMs` of wall-clock time: shutdown runs in real time, whatever clock the work uses.
   */
  async drained(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.pending.size > 0) {
      const left = deadline - Date.now();
      if (left <= 0) return false;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled([...this.pending]),
        new Promise((resolve) => {
          timer = setTimeout(resolve, left);
        }),
      ]);
      clearTimeout(timer);
    }
    return true;
  }
}
