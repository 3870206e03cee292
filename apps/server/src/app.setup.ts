import type { INestApplication } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { guardJsonBody, guardUrl } from './common/body-guard.js';
import { requestId } from './common/request-id.js';
import type { AppConfig } from './config/config.js';

/** What an application needs beyond its modules: request ids, the JSON body parser with its
 *  limits, and the OpenAPI document. Shared by `main.ts` and the e2e tests; create the app with
 *  `{ bodyParser: false }`. */
export function configureApp(app: INestApplication, config: AppConfig): INestApplication {
  const express = app as NestExpressApplication;
  express.use(requestId);
  express.use(guardUrl);
  express.useBodyParser('json', { limit: config.maxBodyBytes, verify: guardJsonBody });
  express.disable('x-powered-by');
  express.enableShutdownHooks();
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Aviary admin API')
      .setDescription('Feature flags and cohorts for canary releases. Send `Authorization: Bearer <admin key>`.')
      .setVersion('1')
      .addBearerAuth()
      .build(),
  );
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'openapi.json' });
  return app;
}
