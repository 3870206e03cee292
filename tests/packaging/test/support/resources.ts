/**
 * What the suite created, undone in reverse order by `release()`. Each resource is recorded the
 * moment it exists, so a setup that failed halfway (or a sibling branch of a concurrent setup that
 * failed) still leaves nothing behind.
 */
export class Resources {
  private readonly undo: Array<{ name: string; release: () => unknown }> = [];

  add(name: string, release: () => unknown): void {
    this.undo.push({ name, release });
  }

  /** Undoes everything, every step even when an earlier one fails; then reports the failures. */
  async release(): Promise<void> {
    const failures: Error[] = [];
    for (const { name, release } of this.undo.splice(0).reverse()) {
      try {
        await release();
      } catch (error) {
        failures.push(new Error(`releasing ${name} failed: ${error instanceof Error ? error.message : String(error)}`));
      }
    }
    if (failures.length > 0) throw new AggregateError(failures, failures.map((f) => f.message).join('; '));
  }
}

/** Awaits every task, then throws the first failure: unlike Promise.all, no task is still running, unrecorded, when it throws. */
export async function settleAll(tasks: Array<Promise<unknown>>): Promise<void> {
  const results = await Promise.allSettled(tasks);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}
