import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module.js';
import { configureApp } from './app.setup.js';
import { ConfigError, loadConfig } from './config/config.js';
import { InstallationService } from './installation/installation.service.js';

async function bootstrap(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(1);
    }
    throw err;
  }
  const app = await NestFactory.create(AppModule.register(config), {
    bodyParser: false,
    logger: ['error', 'warn', 'log', 'debug', 'verbose'].slice(0, ['error', 'warn', 'log', 'debug', 'verbose'].indexOf(config.logLevel) + 1) as never,
  });
  configureApp(app, config);
  await app.listen(config.port, config.host);
  const shown = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
  const url = `http://${shown}:${(app.getHttpServer().address() as { port: number }).port}`;
  // Printed whatever LOG_LEVEL says: this is how a user finds the server.
  console.log(`Aviary listening on ${url} (admin API ${url}/api/v1)`);
  console.log(`API docs: ${url}/docs (OpenAPI ${url}/openapi.json)`);
  console.log(config.databaseUrl ? 'Database: DATABASE_URL' : `Database: embedded PGlite in ${config.dataDir}`);
  const installation = app.get(InstallationService);
  if (installation.generatedAdminKey) {
    // Printed once: only its hash is stored.
    console.log(`\n  Admin key (shown once, store it now):\n\n    ${installation.generatedAdminKey}\n`);
    installation.generatedAdminKey = undefined;
  }
}

bootstrap().catch((err: Error) => {
  console.error(`Aviary failed to start: ${err.message}`);
  process.exit(1);
});
