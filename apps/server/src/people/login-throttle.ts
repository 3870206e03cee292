import { HttpException, HttpStatus, Injectable } from '@nestjs/common';
import { FailureWindows } from '../common/auth-failures.js';

/** Failures forgotten after this long (per account and per address). */
const WINDOW_MS = 15 * 60_000;
/** Failures allowed before each next attempt waits: per account, and per address (a shared NAT). */
const FREE = { account: 5, address: 20 };
const MAX_DELAY_S = 15 * 60;

/**
 * Growing delays for failed sign-ins, per account and per address: past the free failures, the
 * next attempt waits 5 s, then 10, 20, ... up to 15 minutes after the last failure (429 with
 * Retry-After). Unknown emails are counted like known ones, so the answer never tells whether
 * an email has an account.
 */
@Injectable()
export class LoginThrottle {
  private readonly accounts = new FailureWindows(Number.MAX_SAFE_INTEGER, WINDOW_MS);
  private readonly addresses = new FailureWindows(Number.MAX_SAFE_INTEGER, WINDOW_MS);

  /** Throws 429 while either the account or the address must wait. */
  assertMayTry(email: string, address: string, now = Date.now()): void {
    const wait = Math.max(waitSeconds(this.accounts, email.toLowerCase(), FREE.account, now), waitSeconds(this.addresses, address, FREE.address, now));
    if (wait > 0) {
      throw new HttpException({ message: `Too many failed sign-ins; retry in ${wait} s`, retryAfter: wait }, HttpStatus.TOO_MANY_REQUESTS);
    }
  }

  failed(email: string, address: string, now = Date.now()): void {
    this.accounts.record(email.toLowerCase(), now);
    this.addresses.record(address, now);
  }

  succeeded(email: string): void {
    this.accounts.clear(email.toLowerCase());
  }
}

function waitSeconds(windows: FailureWindows, key: string, free: number, now: number): number {
  const { count, lastAt } = windows.failures(key, now);
  if (count < free) return 0;
  const delayMs = Math.min(5 * 2 ** (count - free), MAX_DELAY_S) * 1000;
  return Math.max(0, Math.ceil((lastAt + delayMs - now) / 1000));
}
