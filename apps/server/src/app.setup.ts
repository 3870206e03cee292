import type { INestApplication } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, type OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { guardBodyStrings, guardJsonBody, guardUrl, isUtf8Json, refuseUnparsedBody } from './common/body-guard.js';
import { ApiKeysService } from './api-keys/api-keys.service.js';
import { serveDashboard } from './dashboard/dashboard-static.js';
import { corsDelegate, refuseForeignPreflight, securityHeaders } from './common/http-security.js';
import { requestId } from './common/request-id.js';
import type { AppConfig } from './config/config.js';
import { ShutdownState } from './health/shutdown-state.js';
import { observeHttp } from './observability/http-observer.js';
import { APP_LOGGER } from './observability/observability.module.js';
import { ServerMetrics } from './observability/server-metrics.js';

/** What an application needs beyond its modules: request ids, in-flight tracking for the drain,
 *  access log and latency metrics, security headers, CORS, the JSON body parser with its limits
 *  (JSON in UTF-8 only: any other body is a 415; no NUL or lone surrogate in any string),
 *  and the OpenAPI document. The SIGTERM drain is installed by `main.ts`. Shared by `main.ts` and the e2e tests; create the app with
 *  `{ bodyParser: false }`. The dashboard's static files are served when they are built. */
export function configureApp(app: INestApplication, config: AppConfig): INestApplication {
  const express = app as NestExpressApplication;
  express.set('trust proxy', config.trustProxy);
  express.use(requestId);
  express.use(app.get(ShutdownState).track);
  express.use(observeHttp(app.get(ServerMetrics), app.get(APP_LOGGER)));
  express.use(securityHeaders());
  express.use(refuseForeignPreflight(config, app.get(ApiKeysService), app.get(APP_LOGGER)));
  express.enableCors(corsDelegate(config, app.get(ApiKeysService)));
  express.use(guardUrl);
  serveDashboard(express);
  express.useBodyParser('json', { limit: config.maxBodyBytes, type: isUtf8Json, verify: guardJsonBody });
  express.use(refuseUnparsedBody);
  express.use(guardBodyStrings);
  express.disable('x-powered-by');
  const document = openApiDocument(app);
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'openapi.json' });
  return app;
}

/** The OpenAPI document of the admin API (served at /openapi.json; `openapi.ts` prints it for the dashboard's types). */
export function openApiDocument(app: INestApplication): OpenAPIObject {
  return SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Aviary admin API')
      .setDescription(
        'Feature flags and cohorts for canary releases. Send `Authorization: Bearer <admin key>`, or sign in (`POST /api/v1/auth/login`) ' +
          'and send the `aviary_session` cookie, with the `aviary_csrf` cookie\'s value in `X-CSRF-Token` on writes (docs/people.md).',
      )
      .setVersion('1')
      .addBearerAuth()
      .addCookieAuth('aviary_session')
      .build(),
  );
}
