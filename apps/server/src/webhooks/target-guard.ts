import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import type { LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';

/** Why a URL may not be a webhook target; undefined when it may. Syntax only (no DNS). */
export function urlProblem(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'must be an absolute http:// or https:// URL';
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return `must use http or https, not ${parsed.protocol.slice(0, -1)}`;
  if (parsed.username || parsed.password) return 'must not carry a user name or password';
  return undefined;
}

/** Whether an address is a public unicast one; loopback, private, link-local (cloud metadata at
 *  169.254.169.254), carrier-grade NAT, multicast and reserved ranges are not. By ipaddr.js. */
export function isPublicAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  return ipaddr.process(address).range() === 'unicast';
}

export class TargetRefusedError extends Error {
  override readonly name = 'TargetRefusedError';
}

/**
 * A `lookup` for `http.request` that resolves the host and refuses non-public addresses unless
 * allowed. The connection uses the address checked here, so a DNS answer that changes between the
 * check and the connection (rebinding) cannot slip through; it runs on every attempt.
 */
export function guardedLookup(allowPrivate: boolean): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
      if (err) return callback(err, '', 0);
      const refused = allowPrivate ? undefined : addresses.find((a) => !isPublicAddress(a.address));
      if (refused) {
        return callback(new TargetRefusedError(`${hostname} resolves to ${refused.address}, a non-public address (AVIARY_WEBHOOK_ALLOW_PRIVATE=true allows it)`), '', 0);
      }
      if (options.all) return callback(null, addresses);
      const first = addresses[0]!;
      callback(null, first.address, first.family);
    });
  };
}

/** Resolves `url`'s host as a delivery would; answers the refusal, or undefined. */
export function checkTarget(url: string, allowPrivate: boolean): Promise<string | undefined> {
  const syntax = urlProblem(url);
  if (syntax) return Promise.resolve(syntax);
  const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
  return new Promise((resolve) => {
    guardedLookup(allowPrivate)(host, { all: true }, (err) => resolve(err ? (err instanceof TargetRefusedError ? err.message : `cannot be resolved: ${err.message}`) : undefined));
  });
}
