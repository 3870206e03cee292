import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/config.js';

/** Addresses tracked at most; past it the oldest entries go first (an attacker with many addresses cannot grow it). */
const MAX_ADDRESSES = 100_000;

/**
 * Failed authentications (a missing, unknown or revoked key) per client address, per instance,
 * in fixed windows of `AVIARY_RATE_LIMIT_WINDOW_S`. Past `AVIARY_AUTH_FAILURE_LIMIT` in a window,
 * the address is refused with 429 until the window ends, before any key lookup.
 */
@Injectable()
export class AuthFailures {
  private readonly windows = new Map<string, { failures: number; endsAt: number }>();
  private readonly limit: number;
  private readonly windowMs: number;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.limit = config.rateLimit.authFailures;
    this.windowMs = config.rateLimit.windowMs;
  }

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

  record(address: string, now = Date.now()): void {
    if (this.limit === 0) return;
    const window = this.windows.get(address);
    if (window && window.endsAt > now) {
      window.failures++;
      return;
    }
    this.windows.delete(address);
    if (this.windows.size >= MAX_ADDRESSES) this.prune(now);
    this.windows.set(address, { failures: 1, endsAt: now + this.windowMs });
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
