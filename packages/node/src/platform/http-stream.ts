import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { Readable } from 'node:stream';
import { constants, createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import type { OpenTextStream, TextStream } from './platform.js';

// Own agents: keep-alive (a refused or redirected request leaves its socket for the next attempt),
// without the 5 s socket timeout of Node's global agents (the stream has its own heartbeat).
let httpAgent: HttpAgent | undefined;
let httpsAgent: HttpsAgent | undefined;

const redirects = new Set([301, 302, 303, 307, 308]);
/** As WHATWG fetch. */
const maxRedirects = 20;
/** An error answer's body is read up to this much (its message is quoted, shortened, in the error). */
const maxErrorBody = 64 * 1024;

/**
 * The event stream over `node:http` / `node:https`: the body arrives as strings straight from the
 * socket (`setEncoding('utf8')`), with none of fetch's web-stream machinery per chunk. Behaves as
 * `fetch` does for a GET: follows redirects (dropping `Authorization` to another origin), decodes a
 * compressed body, rejects on network errors and on abort.
 */
export const openHttpStream: OpenTextStream = (url, headers, signal) => get(url, headers, signal, 0);

function get(url: string, headers: Record<string, string>, signal: AbortSignal, redirected: number): Promise<TextStream> {
  return new Promise<TextStream>((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    let target: URL;
    try {
      target = new URL(url);
      if (target.protocol !== 'http:' && target.protocol !== 'https:') throw new Error(`cannot GET a ${target.protocol} URL`);
    } catch (error) {
      reject(error);
      return;
    }
    const secure = target.protocol === 'https:';
    const agent = secure ? (httpsAgent ??= new HttpsAgent({ keepAlive: true })) : (httpAgent ??= new HttpAgent({ keepAlive: true }));
    const request = (secure ? httpsRequest : httpRequest)(target, { method: 'GET', headers, agent, signal });
    let answered = false;
    /** Where a request error goes once the answer is being read. */
    let failBody: ((error: unknown) => void) | undefined;
    request.on('error', (error) => {
      if (!answered) reject(error);
      else failBody?.(error);
    });
    request.on('response', (res) => {
      answered = true;
      const status = res.statusCode ?? 0;
      const location = res.headers.location;
      if (redirects.has(status) && location !== undefined) {
        res.resume();
        if (redirected >= maxRedirects) {
          reject(new Error(`more than ${maxRedirects} redirects`));
          return;
        }
        let next: URL;
        try {
          next = new URL(location, target);
        } catch (error) {
          reject(error);
          return;
        }
        let nextHeaders = headers;
        if (next.origin !== target.origin) {
          const { authorization: _dropped, ...rest } = headers;
          nextHeaders = rest;
        }
        resolve(get(next.href, nextHeaders, signal, redirected + 1));
        return;
      }
      const answer = textStream(res, (fail) => (failBody = fail));
      resolve(answer);
    });
    request.end();
  });
}

function textStream(res: IncomingMessage, onFailure: (fail: (error: unknown) => void) => void): TextStream {
  const contentType = res.headers['content-type'] ?? '';
  let body: Readable = res;
  let unsupported: Error | undefined;
  const encoding = (res.headers['content-encoding'] ?? '').trim().toLowerCase();
  if (encoding !== '' && encoding !== 'identity') {
    const decoder =
      encoding === 'gzip' || encoding === 'x-gzip'
        ? createGunzip({ flush: constants.Z_SYNC_FLUSH, finishFlush: constants.Z_SYNC_FLUSH })
        : encoding === 'deflate'
          ? createInflate({ flush: constants.Z_SYNC_FLUSH, finishFlush: constants.Z_SYNC_FLUSH })
          : encoding === 'br'
            ? createBrotliDecompress({ flush: constants.BROTLI_OPERATION_FLUSH, finishFlush: constants.BROTLI_OPERATION_FLUSH })
            : undefined;
    if (decoder === undefined) unsupported = new Error(`unsupported content-encoding "${encoding}"`);
    else body = res.pipe(decoder);
  }
  body.setEncoding('utf8');

  /** Feeds `body` to `onText` until it ends (resolve) or the connection fails (reject). */
  const consume = (onText: (text: string) => void): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      let done = false;
      const finish = (error?: unknown) => {
        if (done) return;
        done = true;
        body.off('data', onData);
        if (error === undefined) {
          resolve();
          return;
        }
        res.destroy();
        if (body !== res) body.destroy();
        reject(error);
      };
      const onData = (text: string) => {
        if (done) return;
        try {
          onText(text);
        } catch (error) {
          finish(error);
        }
      };
      if (unsupported !== undefined) {
        finish(unsupported);
        return;
      }
      onFailure(finish);
      body.on('data', onData);
      body.once('end', () => finish());
      body.once('error', finish);
      res.once('error', finish);
      // A connection that drops mid-body closes without an error on some Node versions.
      res.once('close', () => {
        if (!res.complete) finish(new Error('the connection closed mid-answer'));
      });
    });

  return {
    status: res.statusCode ?? 0,
    contentType,
    async text() {
      let text = '';
      await consume((chunk) => {
        text += chunk;
        if (text.length > maxErrorBody) res.destroy();
      }).catch((error: unknown) => {
        if (text.length <= maxErrorBody) throw error;
      });
      return text;
    },
    read: consume,
    cancel() {
      res.destroy();
      if (body !== res) body.destroy();
    },
  };
}
