import type { INestApplication } from '@nestjs/common';
import type { Server } from 'node:http';
import type { Logger } from '../observability/logger.js';
import { ShutdownState } from './shutdown-state.js';

/**
 * On SIGTERM (or SIGINT): readiness goes false and streams close at once; requests keep being
 * answered (with `Connection: close`) for up to 2 s while balancers notice; then the listener
 * stops, in-flight requests finish, the application closes (bus, database) and the process exits 0.
 * If that takes longer than `timeoutMs`, remaining connections are cut and it exits 1.
 */
export function installGracefulShutdown(app: INestApplication, timeoutMs: number, logger: Logger): void {
  let started = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (started) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    started = true;
    void shutdown(app, timeoutMs, logger, signal).then(
      () => process.exit(0),
      (err: Error) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}

/** The drain itself, without the signal handling and the exit. */
export async function shutdown(app: INestApplication, timeoutMs: number, logger: Logger, reason = 'shutdown'): Promise<void> {
  const startedAt = Date.now();
  const deadline = setTimeout(() => {
    logger.error({ timeoutMs }, `shutdown took longer than ${timeoutMs} ms: exiting with connections cut`);
    process.exit(1);
  }, timeoutMs);
  deadline.unref();
  const state = app.get(ShutdownState);
  const server = app.getHttpServer() as Server;
  state.begin();
  // Keep answering for a moment: balancers see /readyz fail, and keep-alive clients get
  // `Connection: close` on their next response instead of a connection cut under a request.
  const grace = Math.min(2000, timeoutMs / 4);
  logger.info({ reason, pending: state.pending, graceMs: grace }, 'draining: readiness off, streams closed, connections closing');
  await delay(grace);
  server.close();
  // Leave part of the budget to closing the application itself.
  const budget = Math.max(timeoutMs - grace - 2000, (timeoutMs - grace) / 2);
  const finished = await Promise.race([state.idle().then(() => true), delay(budget).then(() => false)]);
  if (!finished) logger.warn({ pending: state.pending }, 'in-flight requests still open after the drain budget: closing them');
  server.closeAllConnections();
  await app.close();
  clearTimeout(deadline);
  logger.info({ ms: Date.now() - startedAt }, 'shut down');
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
