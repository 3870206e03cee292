import { Global, Inject, Module, type OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { watchDatabase } from './database-errors.js';
import { type Logger, loggerFor } from './logger.js';
import { PrometheusController } from './prometheus.controller.js';
import { ServerMetrics } from './server-metrics.js';

/** The server's pino logger (inject with `@Inject(APP_LOGGER)`). */
export const APP_LOGGER = Symbol('APP_LOGGER');

/** Metrics (`GET /metrics`, `ServerMetrics` for anyone to inject) and the JSON logger. */
@Global()
@Module({
  controllers: [PrometheusController],
  providers: [ServerMetrics, { provide: APP_LOGGER, inject: [APP_CONFIG], useFactory: (config: AppConfig) => loggerFor(config) }],
  exports: [ServerMetrics, APP_LOGGER],
})
export class ObservabilityModule implements OnModuleInit {
  constructor(
    private readonly metrics: ServerMetrics,
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(APP_LOGGER) private readonly logger: Logger,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    watchDatabase(this.dataSource, this.metrics, this.logger.child({ context: 'Postgres' }), this.config.databaseUrl ? this.config.dbTimeouts : undefined);
  }
}
