import { AuthenticationError } from './errors/authentication-error.js';
import { ConnectionError } from './errors/connection-error.js';
import type { AviaryError } from './errors/aviary-error.js';

export const sdkVersion = '0.2.0';

export function baseHeaders(sdkKey: string): Record<string, string> {
  return { authorization: `Bearer ${sdkKey}`, 'user-agent': `AviaryNode/${sdkVersion}` };
}

/** Turns a non-2xx answer into the error to report: 401/403 are fatal, everything else is retried. */
export async function errorForStatus(
  response: { readonly status: number; text(): Promise<string> },
  method: string,
  url: string,
): Promise<AviaryError> {
  const body = await response.text().catch(() => '');
  if (response.status === 401 || response.status === 403) {
    return new AuthenticationError(response.status, url, serverMessage(body));
  }
  const message = serverMessage(body);
  return new ConnectionError(
    `Aviary: ${method} ${url} answered ${response.status}${message ? `: ${message}` : ''}`,
    { status: response.status },
  );
}

export function describeFailure(method: string, url: string, cause: unknown): ConnectionError {
  return new ConnectionError(`Aviary: ${method} ${url} failed: ${reasonOf(cause)}`, { cause });
}

/** What a network error says: fetch wraps it in `TypeError: fetch failed`; a refused dual-stack connect is an AggregateError without a message. */
function reasonOf(cause: unknown): string {
  if (!(cause instanceof Error)) return String(cause);
  const error = cause.cause instanceof Error ? cause.cause : cause;
  if (error.message !== '') return error.message;
  if (error instanceof AggregateError && error.errors.length > 0) {
    return error.errors.map((inner: unknown) => (inner instanceof Error ? inner.message : String(inner))).join('; ');
  }
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? code : error.name;
}

function serverMessage(body: string): string | undefined {
  if (!body) return undefined;
  try {
    const parsed: unknown = JSON.parse(body);
    if (typeof parsed === 'object' && parsed !== null && typeof (parsed as { message?: unknown }).message === 'string') {
      return (parsed as { message: string }).message;
    }
  } catch {
    // not JSON: fall through to the raw text
  }
  return body.length > 200 ? `${body.slice(0, 200)}…` : body;
}
