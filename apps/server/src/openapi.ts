import 'reflect-metadata';
import { writeFileSync } from 'node:fs';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module.js';
import { openApiDocument } from './app.setup.js';
import { loadConfig } from './config/config.js';

/**
 * Writes the admin API's OpenAPI document (the one /openapi.json serves) to the file named by the
 * first argument, or stdout, without a database: Nest's preview mode reads the controllers'
 * metadata and starts no provider. The dashboard's build generates its API types from it.
 */
async function main(): Promise<void> {
  const app = await NestFactory.create(AppModule.register(loadConfig({})), { preview: true, logger: false, abortOnError: false });
  const json = `${JSON.stringify(openApiDocument(app), null, 2)}\n`;
  await app.close();
  if (process.argv[2]) writeFileSync(process.argv[2], json);
  else process.stdout.write(json);
}

main().catch((err: Error) => {
  console.error(`Could not build the OpenAPI document: ${err.message}`);
  process.exit(1);
});
