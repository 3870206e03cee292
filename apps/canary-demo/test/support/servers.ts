import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

export async function close(server: Server): Promise<void> {
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/** A target that counts requests by user and answers 204, after `delayMs` (Infinity: never). */
export function countingServer(delayMs = 0): { server: Server; users: Map<string, number> } {
  const users = new Map<string, number>();
  const server = createServer((req, res) => {
    const user = new URL(req.url ?? '/', 'http://x').searchParams.get('user') ?? '';
    users.set(user, (users.get(user) ?? 0) + 1);
    if (delayMs === Number.POSITIVE_INFINITY) return;
    setTimeout(() => res.writeHead(204).end(), delayMs);
  });
  return { server, users };
}
