import pg from 'pg';

/** pg's error for a query that reached `query_timeout`. */
export const QUERY_READ_TIMEOUT = 'Query read timeout';

/**
 * A pg client that closes its connection when a query reaches `query_timeout`. pg answers such a
 * query with an error but keeps waiting for the answer on the same connection and lets the pool
 * hand it out again, so every later query on it waits behind one that may never end (a database
 * host that stopped answering). Closed, it is dropped from the pool, which opens a fresh one.
 */
export class DeadlineClient extends pg.Client {
  constructor(config?: string | pg.ClientConfig) {
    super(config);
    const query = this.query.bind(this) as (...args: unknown[]) => unknown;
    Object.assign(this, {
      query: (...args: unknown[]) => {
        const result = query(...args);
        if (result instanceof Promise) {
          result.catch((err: unknown) => {
            if ((err as Error | undefined)?.message === QUERY_READ_TIMEOUT) this.connection.stream.destroy();
          });
        }
        return result;
      },
    });
  }
}
