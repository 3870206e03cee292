import { Injectable } from '@nestjs/common';

/** Failures free of any delay, per account and per address. */
const FREE = { account: 3, address: 20 };
/** The longest wait; failures are forgotten after this much quiet. */
const MAX_DELAY_MS = 15 * 60_000;
const MAX_TRACKED = 100_000;

interface Failures {
  count: number;
  lastAt: number;
}

/**
 * Failed sign-ins per account (the email as typed, lower-cased: unknown emails count the same,
 * so a delay reveals nothing) and per client address, per instance. Past the free failures, each
 * further attempt must wait twice as long after the last failure as the one before (1 s, 2 s,
 * 4 s … 15 min); earlier attempts are refused with 429 before the password is looked at.
 */
@Injectable()
export class LoginThrottle {
  private readonly failures = new Map<string, Failures>();

  /** Milliseconds until this account and address may try again; 0 when they may now. */
  waitMs(email: string, address: string, now = Date.now()): number {
    return Math.max(this.wait(`account:${email.toLowerCase()}`, FREE.account, now), this.wait(`address:${address}`, FREE.address, now));
  }

  failed(email: string, address: string, now = Date.now()): void {
    if (this.failures.size >= MAX_TRACKED) this.prune(now);
    for (const key of [`account:${email.toLowerCase()}`, `address:${address}`]) {
      const entry = this.failures.get(key);
      this.failures.set(key, { count: (entry && now - entry.lastAt < MAX_DELAY_MS ? entry.count : 0) + 1, lastAt: now });
    }
  }

  /** A correct password clears its account's failures (not its address's: one account's success says nothing of others). */
  succeeded(email: string): void {
    this.failures.delete(`account:${email.toLowerCase()}`);
  }

  private wait(key: string, free: number, now: number): number {
    const entry = this.failures.get(key);
    if (!entry || entry.count < free || now - entry.lastAt >= MAX_DELAY_MS) return 0;
    const delay = Math.min(MAX_DELAY_MS, 1000 * 2 ** (entry.count - free));
    return Math.max(0, entry.lastAt + delay - now);
  }

  private prune(now: number): void {
    for (const [key, entry] of this.failures) if (now - entry.lastAt >= MAX_DELAY_MS) this.failures.delete(key);
    if (this.failures.size >= MAX_TRACKED) this.failures.clear();
  }
}
