import type { EntityManager } from 'typeorm';

/** Runs one statement and answers its rows, whatever the command (TypeORM's `query` answers
 *  `[rows, count]` for UPDATE and DELETE). Inside a transaction it uses the transaction's runner. */
export async function sql<T>(manager: EntityManager, text: string, params: unknown[] = []): Promise<T[]> {
  if (manager.queryRunner) {
    return ((await manager.queryRunner.query(text, params, true)).records ?? []) as T[];
  }
  const runner = manager.connection.createQueryRunner();
  try {
    return ((await runner.query(text, params, true)).records ?? []) as T[];
  } finally {
    await runner.release();
  }
}

/** Postgres error codes the services translate into HTTP answers. */
export const PG_UNIQUE_VIOLATION = '23505';

export function pgCode(err: unknown): string | undefined {
  const e = err as { driverError?: { code?: string }; code?: string };
  return e?.driverError?.code ?? e?.code;
}
