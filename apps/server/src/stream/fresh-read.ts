const noop = () => undefined;

/**
 * A read that concurrent callers share, but never one that began before they called: it could
 * predate the commit they ask about. At most one read runs, and one more waits to start after it.
 */
export class FreshRead<T> {
  private current?: Promise<T>;
  private next?: Promise<T>;

  constructor(private readonly read: () => Promise<T>) {}

  get(): Promise<T> {
    if (this.next) return this.next;
    if (!this.current) return this.start();
    const next = this.current.then(noop, noop).then(() => {
      this.next = undefined;
      return this.start();
    });
    this.next = next;
    return next;
  }

  private start(): Promise<T> {
    const read = this.read().finally(() => {
      if (this.current === read) this.current = undefined;
    });
    this.current = read;
    return read;
  }
}
