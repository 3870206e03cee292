import { type BeforeApplicationShutdown, Injectable } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { StreamHub } from '../stream/stream-hub.js';

const STREAM_PATH = '/sdk/v1/stream';

/**
 * Whether this instance is shutting down, and the requests it still owes an answer. Once
 * draining, `/readyz` answers 503, no stream opens (503), open streams are closed so their
 * clients reconnect to another instance, and every response closes its connection.
 */
@Injectable()
export class ShutdownState implements BeforeApplicationShutdown {
  private isDraining = false;
  private inFlight = 0;
  private waiters: Array<() => void> = [];

  constructor(private readonly hub: StreamHub) {}

  get draining(): boolean {
    return this.isDraining;
  }

  /** Requests being served, open streams not counted. */
  get pending(): number {
    return this.inFlight;
  }

  /** Starts draining: readiness false, streams closed. Safe to call more than once. */
  begin(): void {
    this.isDraining = true;
    this.hub.drain();
  }

  /** `app.close()` without a SIGTERM (tests, embedding) drains the same way. */
  beforeApplicationShutdown(): void {
    this.begin();
  }

  /** Resolves once no request is in flight. */
  idle(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Express middleware: counts requests until their response is done (streams excepted: they
   *  last until drained); while draining, asks keep-alive clients to go elsewhere next time. */
  readonly track = (req: IncomingMessage, res: ServerResponse, next: () => void): void => {
    if (this.isDraining) res.setHeader('Connection', 'close');
    if (req.url?.startsWith(STREAM_PATH)) {
      next();
      return;
    }
    this.inFlight++;
    res.on('close', () => {
      this.inFlight--;
      if (this.inFlight === 0) for (const wake of this.waiters.splice(0)) wake();
    });
    next();
  };
}
