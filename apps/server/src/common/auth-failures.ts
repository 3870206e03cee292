import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/config.js';

/** Addresses tracked at most; past it the oldest entries go first (an attacker with many addresses cannot grow it). */
const MAX_ADDRESSES = 100_000;

/** Failures per key (an address, an account) in fixed windows, per instance; `limit` 0: none kept. */
export class FailureWindows {
  private readonly windows = new Map<string, { failures: number; endsAt: number; lastAt: number }>();

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
  ) {}

  /** Seconds until `address` may try again; 0 when it may now. */
  retryAfter(address: string, now = Date.now()): number {
    const window = this.windows.get(address);
    if (!window || this.limit === 0) return 0;
    if (window.endsAt <= now) {
      this.windows.delete(address);
      return 0;
    }
    return window.failures >= this.limit ? Math.ceil((window.endsAt - now) / 1000) : 0;
  }

  /** The failures of `key` in its current window and when the last one was. */
  failures(key: string, now = Date.now()): { count: number; lastAt: number } {
    const window = this.windows.get(key);
    return window && window.endsAt > now ? { count: window.failures, lastAt: window.lastAt } : { count: 0, lastAt: 0 };
  }

  clear(key: string): void {
    this.windows.delete(key);
  }

  record(address: string, now = Date.now()): void {
    if (this.limit === 0) return;
    const window = this.windows.get(address);
    if (window && window.endsAt > now) {
      window.failures++;
      window.lastAt = now;
      return;
    }
    this.windows.delete(address);
    if (this.windows.size >= MAX_ADDRESSES) this.prune(now);
    this.windows.set(address, { failures: 1, endsAt: now + this.windowMs, lastAt: now });
  }

  private prune(now: number): void {
    for (const [address, window] of this.windows) if (window.endsAt <= now) this.windows.delete(address);
    // Still full: drop the oldest tenth (Map iterates in insertion order).
    let drop = this.windows.size >= MAX_ADDRESSES ? MAX_ADDRESSES / 10 : 0;
    for (const address of this.windows.keys()) {
      if (drop-- <= 0) break;
      this.windows.delete(address);
    }
  }
}

/**
 * Failed authentications (a missing, unknown or revoked key or session, a wrong password) per
 * client address, in fixed windows of `AVIARY_RATE_LIMIT_WINDOW_S`. Past `AVIARY_AUTH_FAILURE_LIMIT`
 * in a window, the address is refused with 429 until the window ends, before any lookup.
 */
@Injectable()
export class AuthFailures extends FailureWindows {
  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    super(config.rateLimit.authFailures, config.rateLimit.windowMs);
  }
}
