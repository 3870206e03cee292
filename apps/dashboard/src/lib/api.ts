import createClient, { type Middleware } from 'openapi-fetch';
import type { components, paths } from './api-schema';

export type Schemas = components['schemas'];

/** An error the API answered, as a sentence, with the field errors of a 400 (`rules[0].conditions[1].values`). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly fields: ReadonlyArray<{ path: string; message: string }> = [],
    readonly requestId?: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

const CSRF_COOKIE = 'aviary_csrf';
const CSRF_HEADER = 'X-CSRF-Token';

function csrfToken(): string | undefined {
  for (const part of document.cookie.split(';')) {
    const [name, ...rest] = part.trim().split('=');
    if (name === CSRF_COOKIE) return decodeURIComponent(rest.join('='));
  }
  return undefined;
}

/** Session writes carry the CSRF cookie's value (double submit, docs/people.md). */
const csrf: Middleware = {
  onRequest({ request }) {
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      const token = csrfToken();
      if (token) request.headers.set(CSRF_HEADER, token);
    }
    return request;
  },
};

/** The typed client of the admin API, same origin, cookies included. */
export const api = createClient<paths>({ baseUrl: window.location.origin, credentials: 'same-origin' });
api.use(csrf);

interface ErrorBody {
  message?: string;
  errors?: Array<{ path: string; message: string }>;
  requestId?: string;
}

/** The data of an openapi-fetch answer, or an ApiError made from the error body. */
export async function unwrap<T>(call: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  let result;
  try {
    result = await call;
  } catch {
    throw new ApiError(0, 'The server cannot be reached: check your connection, then try again.');
  }
  const { data, error, response } = result;
  if (response.ok) return data as T;
  const body = (error ?? {}) as ErrorBody;
  const message = typeof body.message === 'string' && body.message !== '' ? body.message : `The server answered ${response.status} ${response.statusText}`;
  throw new ApiError(response.status, sentence(message), body.errors ?? [], body.requestId);
}

function sentence(message: string): string {
  const trimmed = message.trim();
  const capital = trimmed.charAt(0).toUpperCase() + trimmed.slice(1);
  return /[.!?]$/.test(capital) ? capital : `${capital}.`;
}

/** The message the API gave for one field (`url`, `rules[0].id`) of a 400, to show at that field. */
export function fieldError(error: unknown, path: string): string | undefined {
  return error instanceof ApiError ? error.fields.find((f) => f.path === path)?.message : undefined;
}

/** The first message the API gave for a field or anything inside it (`rules[0]` finds `rules[0].conditions[1].values`). */
export function fieldErrorUnder(error: unknown, path: string): string | undefined {
  return error instanceof ApiError ? error.fields.find((f) => f.path === path || f.path.startsWith(`${path}[`) || f.path.startsWith(`${path}.`))?.message : undefined;
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : 'Something went wrong.';
}
