import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { ConfigError, loadConfig } from './config/config.js';
import { migrationOptions, openDatabase } from './database/data-source.js';

/** `npm run migrate`: applies pending migrations to DATABASE_URL (or the embedded database), or
 *  with `--revert` undoes the last one. */
async function migrate(): Promise<void> {
  const config = loadConfig();
  const { options, embedded } = await openDatabase(config);
  // No statement limits: a migration may rewrite a large table.
  const dataSource = new DataSource({ ...migrationOptions(options), migrationsRun: false });
  try {
    await dataSource.initialize();
    if (process.argv.includes('--revert')) {
      await dataSource.undoLastMigration({ transaction: 'each' });
      console.log('Reverted the last migration');
    } else {
      const applied = await dataSource.runMigrations({ transaction: 'each' });
      console.log(applied.length ? `Applied ${applied.map((m) => m.name).join(', ')}` : 'The schema is up to date');
    }
  } finally {
    if (dataSource.isInitialized) await dataSource.destroy();
    await embedded?.stop();
  }
}

migrate().catch((err: Error) => {
  console.error(err instanceof ConfigError ? err.message : `Migration failed: ${err.message}`);
  process.exit(1);
});
