import type { NestApplicationOptions } from '@nestjs/common';
import { ExpressAdapter } from '@nestjs/platform-express';
import { createServer, IncomingMessage, ServerResponse } from 'node:http';

/** An Express application's prototypes of its requests and responses. */
interface ExpressPrototypes {
  request: object;
  response: object;
}

/**
 * Nest's Express adapter, except that the HTTP server makes every request and response with
 * Express's prototypes (`app.request`, `app.response`) already in place.
 *
 * Express sets each request's and response's prototype on arrival (`Object.setPrototypeOf` in
 * `app.handle`). On V8 that makes nearly everything a request allocates outlive the next scavenge
 * and land in the old generation: in bench:ofrep, 11.6 % of what the server allocated was promoted
 * (0.4 % with this adapter) and the mean scavenge took 5.8 ms (1.8 ms), where the same handler on a
 * plain `node:http` server promotes almost nothing (`--trace-gc-nvp`, bench/README.md "OFREP"). When the prototype is
 * already the right one, Express's call changes nothing (expressjs/express#5998 proposes the same).
 *
 * Options Aviary does not use (`httpsOptions`, `return503OnClosing`, `forceCloseConnections`)
 * keep Nest's own server.
 */
export class AviaryExpressAdapter extends ExpressAdapter {
  override initHttpServer(options: NestApplicationOptions): void {
    if (options?.httpsOptions || options?.return503OnClosing || options?.forceCloseConnections) {
      super.initHttpServer(options);
      return;
    }
    const app = this.getInstance<ExpressPrototypes & ((req: IncomingMessage, res: ServerResponse) => void)>();
    class Request extends IncomingMessage {}
    class Response extends ServerResponse {}
    // Once, at start: each class's prototype goes in front of Express's, and becomes the app's.
    Object.setPrototypeOf(Request.prototype, app.request);
    Object.setPrototypeOf(Response.prototype, app.response);
    app.request = Request.prototype;
    app.response = Response.prototype;
    this.httpServer = createServer({ IncomingMessage: Request, ServerResponse: Response }, app);
  }
}
