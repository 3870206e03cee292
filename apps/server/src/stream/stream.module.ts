import { Inject, Logger, Module, type OnApplicationBootstrap, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { ServerMetrics } from '../observability/server-metrics.js';
import { RulesetService } from '../ruleset/ruleset.service.js';
import { CHANGE_BUS, type ChangeBus, RedisChangeBus, SingleInstanceBus } from './change-bus.js';
import { LiveRulesets } from './live-rulesets.js';
import { PlanNotices } from './plan-notices.js';
import { PostgresRulesetSource } from './postgres-ruleset-source.js';
import { StreamHub } from './stream-hub.js';

/**
 * The one change path: every environment's ruleset in memory (`LiveRulesets`), kept current by the
 * writes this instance commits, by the bus from the others and by the revision check; the open
 * streams (`StreamHub`); rollout plans' notices for the dashboard (`PlanNotices`); and the gauges
 * that describe them.
 */
@Module({
  providers: [
    {
      provide: CHANGE_BUS,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig): ChangeBus =>
        config.redisUrl ? new RedisChangeBus(config.redisUrl, new Logger('RedisBus')) : new SingleInstanceBus(),
    },
    { provide: StreamHub, inject: [APP_CONFIG], useFactory: (config: AppConfig) => new StreamHub(config.heartbeatMs) },
    {
      provide: LiveRulesets,
      inject: [getDataSourceToken(), RulesetService, CHANGE_BUS, StreamHub, APP_CONFIG],
      useFactory: (dataSource: DataSource, rulesets: RulesetService, bus: ChangeBus, hub: StreamHub, config: AppConfig) =>
        new LiveRulesets(new PostgresRulesetSource(dataSource, rulesets), bus, hub, new Logger('LiveRulesets'), config.revisionCheckMs),
    },
    {
      provide: PlanNotices,
      inject: [CHANGE_BUS, StreamHub, LiveRulesets],
      useFactory: (bus: ChangeBus, hub: StreamHub, live: LiveRulesets) => new PlanNotices(bus, hub, live),
    },
  ],
  exports: [LiveRulesets, StreamHub, CHANGE_BUS, PlanNotices],
})
export class StreamModule implements OnModuleInit, OnApplicationBootstrap, OnApplicationShutdown {
  constructor(
    private readonly live: LiveRulesets,
    private readonly hub: StreamHub,
    @Inject(CHANGE_BUS) private readonly bus: ChangeBus,
    private readonly metrics: ServerMetrics,
    private readonly plans: PlanNotices,
  ) {}

  onModuleInit(): void {
    const bus = this.bus;
    this.metrics.attach({
      openStreams: () => this.hub.size,
      revisionLag: () => this.live.lag,
      ...(bus instanceof RedisChangeBus ? { redisErrors: () => bus.errorCount, redisUp: () => bus.healthy } : {}),
    });
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.live.start();
    this.plans.start();
  }

  async onApplicationShutdown(): Promise<void> {
    this.hub.drain();
    this.live.stop();
    await this.bus.close();
  }
}
