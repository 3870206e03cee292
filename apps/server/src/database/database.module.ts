import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource, type DataSourceOptions } from 'typeorm';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { type DatabaseTarget, openDatabase } from './data-source.js';

// The embedded server started for a given options object, so the data source can stop it.
const embeddedFor = new WeakMap<object, DatabaseTarget['embedded']>();

@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [APP_CONFIG],
      useFactory: async (config: AppConfig) => {
        const target = await openDatabase(config);
        // A bad DATABASE_URL should stop the boot with its error, not retry for half a minute.
        const options = { ...target.options, retryAttempts: 0 };
        embeddedFor.set(options, target.embedded);
        return options;
      },
      dataSourceFactory: async (options?: DataSourceOptions) => {
        const embedded = options ? embeddedFor.get(options) : undefined;
        const dataSource = new DataSource(options!);
        try {
          await dataSource.initialize();
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
