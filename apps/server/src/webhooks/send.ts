import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import { guardedLookup, isPublicAddress, TargetRefusedError } from './target-guard.js';

export const DELIVERY_TIMEOUT_MS = 10_000;
const KEPT_RESPONSE_BYTES = 1024;

export interface Attempt {
  /** The HTTP status, or undefined when no answer came. */
  status?: number;
  latencyMs: number;
  /** The first 1 KB of the answer. */
  response: string;
  error?: string;
  /** Refused before any connection (a non-public target). */
  refused?: boolean;
}

/** One POST, no redirects followed, 10 s for the whole exchange; never rejects. */
export function send(url: string, headers: Record<string, string>, body: string, allowPrivate: boolean): Promise<Attempt> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const target = new URL(url);
  const host = target.hostname.replace(/^\[|\]$/g, '');
  // Node connects to an IP literal without a lookup: check it here.
  if (isIP(host) && !allowPrivate && !isPublicAddress(host)) {
    return Promise.resolve({ latencyMs: 0, response: '', refused: true, error: `${host} is a non-public address (AVIARY_WEBHOOK_ALLOW_PRIVATE=true allows it)` });
  }
  return new Promise((resolve) => {
    let settled = false;
    const finish = (attempt: Attempt) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(attempt);
    };
    const request = target.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = request(
      target,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'Aviary-Webhooks/1', ...headers, 'content-length': String(Buffer.byteLength(body)) },
        lookup: guardedLookup(allowPrivate),
      },
      (res) => {
        const chunks: Buffer[] = [];
        let kept = 0;
        res.on('data', (chunk: Buffer) => {
          if (kept < KEPT_RESPONSE_BYTES) chunks.push(chunk.subarray(0, KEPT_RESPONSE_BYTES - kept));
          kept += chunk.length;
        });
        res.on('end', () => finish({ status: res.statusCode, latencyMs: elapsed(), response: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', (err) => finish({ status: res.statusCode, latencyMs: elapsed(), response: '', error: err.message }));
      },
    );
    const timer = setTimeout(() => {
      req.destroy();
      finish({ latencyMs: elapsed(), response: '', error: `no answer within ${DELIVERY_TIMEOUT_MS / 1000} s` });
    }, DELIVERY_TIMEOUT_MS);
    req.on('error', (err) => finish({ latencyMs: elapsed(), response: '', error: err.message, refused: err instanceof TargetRefusedError }));
    req.end(body);
  });
}
