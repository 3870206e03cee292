/**
 * One version of the checkout service as its own process:
 *
 *   node dist/service.js --name v2 --bug-rate 0.2 [--base-error-rate 0.005] [--latency-ms 2] [--port 0]
 *
 * Listens on 127.0.0.1 only and prints `{"listening":<port>}` once ready.
 */
import type { AddressInfo } from 'node:net';
import { createCheckoutService, parseServiceArgs } from './checkout-service.js';

try {
  const options = parseServiceArgs(process.argv.slice(2));
  const server = createCheckoutService(options);
  server.listen(options.port, '127.0.0.1', () => {
    process.stdout.write(`${JSON.stringify({ listening: (server.address() as AddressInfo).port })}\n`);
  });
  const stop = () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
} catch (err) {
  console.error((err as Error).message);
  process.exit(2);
}
