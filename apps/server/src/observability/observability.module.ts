import { Global, Inject, Module, type OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { InProcessChangePublisher } from '../changes/change-publisher.js';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { CHANGE_BUS, SdkModule } from '../sdk/sdk.module.js';
import { type ChangeBus, RedisChangeBus } from '../stream/change-bus.js';
import { LiveRulesets } from '../stream/live-rulesets.js';
import { StreamHub } from '../stream/stream-hub.js';
import { watchDatabase } from './database-errors.js';
import { type Logger, loggerFor } from './logger.js';
import { PrometheusController } from './prometheus.controller.js';
import { ServerMetrics } from './server-metrics.js';

/** The server's pino logger (inject with `@Inject(APP_LOGGER)`). */
export const APP_LOGGER = Symbol('APP_LOGGER');

/** Metrics (`GET /metrics`, `ServerMetrics` for anyone to inject) and the JSON logger. */
@Global()
@Module({
  imports: [SdkModule],
  controllers: [PrometheusController],
  providers: [ServerMetrics, { provide: APP_LOGGER, inject: [APP_CONFIG], useFactory: (config: AppConfig) => loggerFor(config) }],
  exports: [ServerMetrics, APP_LOGGER],
})
export class ObservabilityModule implements OnModuleInit {
  constructor(
    private readonly metrics: ServerMetrics,
    private readonly hub: StreamHub,
    private readonly live: LiveRulesets,
    @Inject(CHANGE_BUS) private readonly bus: ChangeBus,
    private readonly publisher: InProcessChangePublisher,
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(APP_LOGGER) private readonly logger: Logger,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    const bus = this.bus;
    this.metrics.attach({
      openStreams: () => this.hub.size,
      revisionLag: () => this.live.lag,
      ...(bus instanceof RedisChangeBus ? { redisErrors: () => bus.errorCount, redisUp: () => bus.healthy } : {}),
    });
    // Counted where the write commits, so the sum over instances is the number of writes.
    this.publisher.subscribe((event) => {
      this.metrics.changes.inc({ environment: event.environment, kind: event.kind });
      if (event.kind === 'kill') this.metrics.kills.inc({ environment: event.environment });
    });
    watchDatabase(this.dataSource, this.metrics, this.logger.child({ context: 'Postgres' }), this.config.databaseUrl ? this.config.dbTimeouts : undefined);
  }
}
