import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { Server } from 'node:http';
import { AppModule } from './app.module.js';
import { configureApp } from './app.setup.js';
import { AviaryExpressAdapter } from './common/express-adapter.js';
import { applyHttpTimeouts } from './common/http-timeouts.js';
import { ConfigError, loadConfig } from './config/config.js';
import { DataDirInUseError } from './database/data-dir-in-use.error.js';
import { EmbeddedPostgres } from './database/embedded-postgres.js';
import { installGracefulShutdown } from './health/graceful-shutdown.js';
import { FirstRunService } from './people/first-run.service.js';
import { InstallationService } from './installation/installation.service.js';
import { type Logger, loggerFor, PinoNestLogger } from './observability/logger.js';

let logger: Logger | undefined;

async function bootstrap(): Promise<void> {
  let config;
  try {
    config = loadConfig();
    // Before Nest logs anything: a second server on one data folder prints only why it stops.
    if (!config.databaseUrl) EmbeddedPostgres.assertFree(config.dataDir);
  } catch (err) {
    if (err instanceof ConfigError || err instanceof DataDirInUseError) {
      console.error(err instanceof DataDirInUseError ? `Aviary cannot start: ${err.message}` : err.message);
      process.exit(1);
    }
    throw err;
  }
  logger = loggerFor(config);
  const app = await NestFactory.create(AppModule.register(config), new AviaryExpressAdapter(), { bodyParser: false, logger: new PinoNestLogger(logger) });
  configureApp(app, config);
  installGracefulShutdown(app, config.shutdownTimeoutMs, logger.child({ context: 'Shutdown' }));
  const server = app.getHttpServer() as Server;
  applyHttpTimeouts(server, config.http);
  await app.listen(config.port, config.host);
  const shown = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
  const url = `http://${shown}:${(server.address() as { port: number }).port}`;
  // Printed whatever LOG_LEVEL says: this is how a user finds the server.
  const banner = logger.child({ context: 'Aviary' }, { level: 'info' });
  banner.info(`Aviary listening on ${url} (admin API ${url}/api/v1)`);
  banner.info(`API docs: ${url}/docs (OpenAPI ${url}/openapi.json)`);
  banner.info(config.databaseUrl ? 'Database: DATABASE_URL' : `Database: embedded PGlite in ${config.dataDir}`);
  const installation = app.get(InstallationService);
  if (installation.generatedAdminKey) {
    // Printed once, past the log scrubbing: only its hash is stored. Set AVIARY_ADMIN_TOKEN to avoid it.
    console.log(`\n  Admin key (shown once, store it now):\n\n    ${installation.generatedAdminKey}\n`);
    installation.generatedAdminKey = undefined;
  }
  const firstRun = app.get(FirstRunService);
  if (firstRun.setupUrl) {
    // Like the admin key: only its hash is stored, so it is shown here once (a restart makes another).
    console.log(`\n  Nobody can sign in yet. Create the first admin (one-time link):\n\n    ${firstRun.setupUrl}\n`);
    firstRun.setupUrl = undefined;
  }
}

bootstrap().catch((err: Error) => {
  if (logger) logger.fatal({ err }, `Aviary failed to start: ${err.message}`);
  else console.error(`Aviary failed to start: ${err.message}`);
  process.exit(1);
});
