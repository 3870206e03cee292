import { Logger, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import type { DataSource, DataSourceOptions } from 'typeorm';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { connectWithRetry, databaseAddress, type RetryPolicy } from './connect-with-retry.js';
import { type DatabaseTarget, openDatabase } from './data-source.js';

// The embedded server started for a given options object, and how to reach the database.
const openedFor = new WeakMap<object, { embedded: DatabaseTarget['embedded']; policy: RetryPolicy }>();

@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [APP_CONFIG],
      useFactory: async (config: AppConfig) => {
        const target = await openDatabase(config);
        // Retried by connectWithRetry, which knows which errors are worth it: not by Nest's module.
        const options = { ...target.options, retryAttempts: 0, toRetry: () => false };
        const policy: RetryPolicy = config.databaseUrl
          ? { what: `Postgres at ${databaseAddress(config.databaseUrl)} (DATABASE_URL)`, retryMs: config.dbConnectRetryMs, connectTimeoutMs: config.dbTimeouts.connectMs }
          : { what: `the embedded Postgres in ${config.dataDir}`, retryMs: 0, connectTimeoutMs: 0 };
        openedFor.set(options, { embedded: target.embedded, policy });
        return options;
      },
      dataSourceFactory: async (options?: DataSourceOptions) => {
        const { embedded, policy } = openedFor.get(options!)!;
        let dataSource: DataSource;
        try {
          dataSource = await connectWithRetry(options!, policy, new Logger('Database'));
        } catch (err) {
          await embedded?.stop();
          throw err;
        }
        const destroy = dataSource.destroy.bind(dataSource);
        dataSource.destroy = async () => {
          try {
            await destroy();
          } finally {
            await embedded?.stop();
          }
        };
        return dataSource;
      },
    }),
  ],
})
export class DatabaseModule {}
