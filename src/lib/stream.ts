// Turns a call's token events into an async iterator: items are queued as they arrive and handed out on
// demand; the call's end finishes the iteration, its error is thrown from it.

export class EventStream<T> implements AsyncIterableIterator<T> {
  private readonly items: T[] = [];
  private waiter: (() => void) | undefined;
  private finished = false;
  private failure: unknown;

  push(item: T): void {
    this.items.push(item);
    this.wake();
  }

  end(): void {
    this.finished = true;
    this.wake();
  }

  fail(error: unknown): void {
    this.failure = error;
    this.finished = true;
    this.wake();
  }

  private wake(): void {
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.();
  }

  async next(): Promise<IteratorResult<T>> {
    for (;;) {
      if (this.items.length > 0) return { value: this.items.shift()!, done: false };
      if (this.failure !== undefined) {
        const failure = this.failure;
        this.failure = undefined;
        throw failure;
      }
      if (this.finished) return { value: undefined, done: true };
      await new Promise<void>((resolve) => (this.waiter = resolve));
    }
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }
}
