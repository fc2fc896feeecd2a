/** A plain "something changed" signal: listeners are called synchronously; one that throws does not stop the others. */
export class ChangeSignal {
  private readonly listeners = new Set<() => void>();

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  notify(): void {
    for (const listener of this.listeners) {
      try {
        listener();
      } catch {
        // A listener's failure is its own (it logs); the change happened all the same.
      }
    }
  }
}
