import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { AviaryRequest } from './actor.js';

const SAFE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The request being served, so every log line written on its behalf carries its id. */
const current = new AsyncLocalStorage<{ requestId: string }>();

/** The id of the request this code runs for, if any. */
export function currentRequestId(): string | undefined {
  return current.getStore()?.requestId;
}

/** Gives every request an id (the caller's `X-Request-Id` when it is sane), echoed in the
 *  response header, in error bodies and in the logs, so a report can be found in the logs. */
export function requestId(req: AviaryRequest, res: ServerResponse, next: () => void): void {
  const given = req.headers['x-request-id'];
  req.requestId = typeof given === 'string' && SAFE_REQUEST_ID.test(given) ? given : randomUUID();
  res.setHeader('X-Request-Id', req.requestId);
  current.run({ requestId: req.requestId }, next);
}
