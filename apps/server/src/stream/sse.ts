import type { IncomingMessage, ServerResponse } from 'node:http';
import { gzipSync } from 'node:zlib';
import Negotiator from 'negotiator';

/** One SSE frame; `data` is a single JSON line so it needs no splitting. */
export function sseEvent(event: string, id: number, data: string): string {
  return `id: ${id}\nevent: ${event}\ndata: ${data}\n\n`;
}

/** An event, not a comment: a browser's EventSource never surfaces comments, and its SDK needs to
 *  hear something to tell a live stream from a silently dead one. It has no id: resume points stay. */
export const SSE_HEARTBEAT = 'event: ping\ndata: {}\n\n';

/** A slow reader that lets this much pile up is cut off; it reconnects and resumes. */
const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;

const CONNECTED = ': connected\n\n';

/** Whether a request's `Accept-Encoding` prefers gzip to no encoding, by its q-values (RFC 9110
 *  12.5.3: `gzip;q=0` refuses gzip, `*` accepts it), negotiated by `negotiator` as Express does. */
export const acceptsGzip = (req: IncomingMessage): boolean => new Negotiator(req).encoding(ENCODINGS) === 'gzip';

/** What the server can send, in its order of preference when the client weighs them equally. */
const ENCODINGS = ['gzip', 'identity'];

/**
 * A frame as one gzip member. A gzip body may be a series of members (RFC 1952 2.2), each complete
 * in itself, so a compressed stream needs no compressor per connection: each frame is compressed
 * once, however many streams it goes to, and a big ruleset's member is its snapshot's cached gzip.
 * Level 1: frames other than rulesets are a few hundred bytes.
 */
export const gzipFrame = (frame: string): Buffer => gzipSync(frame, { level: 1 });

export const SSE_HEARTBEAT_GZIP = gzipFrame(SSE_HEARTBEAT);
const CONNECTED_GZIP = gzipFrame(CONNECTED);

/** Starts the stream; with `gzip`, its body is gzip members (`gzipFrame`), `Content-Encoding: gzip`. */
export function openEventStream(res: ServerResponse, gzip = false): void {
  res.writeHead(200, {
    'Content-Type': 'text/event-stream; charset=utf-8',
    'Cache-Control': 'no-cache, no-transform',
    Connection: 'keep-alive',
    'X-Accel-Buffering': 'no',
    ...(gzip ? { 'Content-Encoding': 'gzip', Vary: 'Accept-Encoding' } : {}),
  });
  res.socket?.setNoDelay(true);
  res.socket?.setKeepAlive(true);
  res.write(gzip ? CONNECTED_GZIP : CONNECTED);
}

/** The largest frame of each stream still on its way out (until the socket drains). */
const inFlight = new WeakMap<ServerResponse, number>();

/**
 * Writes a frame; false when the connection is gone or was cut for being too slow. A reader is
 * slow when more than `MAX_BUFFERED_BYTES` pile up behind the largest frame still leaving: a
 * ruleset bigger than that (a large cohort's) takes a while to leave on any link, and a heartbeat
 * or a change written meanwhile must not cut the stream it is still arriving on (the SDK would
 * reconnect, be sent the same ruleset and be cut again).
 */
export function writeFrame(res: ServerResponse, frame: string | Uint8Array): boolean {
  if (res.destroyed || res.writableEnded) return false;
  const leaving = inFlight.get(res);
  if (res.writableLength > MAX_BUFFERED_BYTES + (leaving ?? 0)) {
    res.destroy();
    return false;
  }
  // A string's length is at most its byte length: enough for an allowance, and free.
  const size = typeof frame === 'string' ? frame.length : frame.byteLength;
  if (!res.write(frame) && size > (leaving ?? 0)) {
    if (leaving === undefined) res.once('drain', () => inFlight.delete(res));
    inFlight.set(res, size);
  }
  return true;
}
