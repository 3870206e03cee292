import type { ServerResponse } from 'node:http';

/** One SSE frame; `data` is a single JSON line so it needs no splitting. */
export function sseEvent(event: string, id: number, data: string): string {
  return `id: ${id}\nevent: ${event}\ndata: ${data}\n\n`;
}

/** An event, not a comment: a browser's EventSource never surfaces comments, and its SDK needs to
 *  hear something to tell a live stream from a silently dead one. It has no id: resume points stay. */
export const SSE_HEARTBEAT = 'event: ping\ndata: {}\n\n';

/** A slow reader that lets this much pile up is cut off; it reconnects and resumes. */
const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;

export function openEventStream(res: ServerResponse): void {
  res.writeHead(200, {
    'Content-Type': 'text/event-stream; charset=utf-8',
    'Cache-Control': 'no-cache, no-transform',
    Connection: 'keep-alive',
    'X-Accel-Buffering': 'no',
  });
  res.socket?.setNoDelay(true);
  res.socket?.setKeepAlive(true);
  res.write(': connected\n\n');
}

/** Writes a frame; false when the connection is gone or was cut for being too slow. */
export function writeFrame(res: ServerResponse, frame: string): boolean {
  if (res.destroyed || res.writableEnded) return false;
  if (res.writableLength > MAX_BUFFERED_BYTES) {
    res.destroy();
    return false;
  }
  res.write(frame);
  return true;
}
