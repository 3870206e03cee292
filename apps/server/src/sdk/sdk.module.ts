import { Inject, Logger, Module, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { InProcessChangePublisher } from '../changes/change-publisher.js';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { RulesetService } from '../ruleset/ruleset.service.js';
import { CHANGE_BUS, type ChangeBus, InProcessChangeBus, RedisChangeBus } from '../stream/change-bus.js';
import { LiveRulesets } from '../stream/live-rulesets.js';
import { StreamHub } from '../stream/stream-hub.js';
import { PostgresRulesetSource } from './postgres-ruleset-source.js';
import { SdkController } from './sdk.controller.js';
import { SdkService } from './sdk.service.js';

export { CHANGE_BUS };

@Module({
  controllers: [SdkController],
  providers: [
    SdkService,
    {
      provide: CHANGE_BUS,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig): ChangeBus =>
        config.redisUrl ? new RedisChangeBus(config.redisUrl, new Logger('RedisBus')) : new InProcessChangeBus(),
    },
    { provide: StreamHub, inject: [APP_CONFIG], useFactory: (config: AppConfig) => new StreamHub(config.heartbeatMs) },
    {
      provide: LiveRulesets,
      inject: [getDataSourceToken(), RulesetService, CHANGE_BUS, StreamHub, APP_CONFIG],
      useFactory: (dataSource: DataSource, rulesets: RulesetService, bus: ChangeBus, hub: StreamHub, config: AppConfig) =>
        new LiveRulesets(new PostgresRulesetSource(dataSource, rulesets), bus, hub, new Logger('LiveRulesets'), config.revisionCheckMs),
    },
  ],
  exports: [LiveRulesets, StreamHub, CHANGE_BUS, SdkService],
})
export class SdkModule implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(
    private readonly live: LiveRulesets,
    private readonly hub: StreamHub,
    @Inject(CHANGE_BUS) private readonly bus: ChangeBus,
    private readonly publisher: InProcessChangePublisher,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    // Writes committed here apply at once, then go to the other instances over the bus.
    this.publisher.subscribe((event) => void this.live.committed(event));
    await this.live.start();
  }

  async onApplicationShutdown(): Promise<void> {
    this.hub.drain();
    this.live.stop();
    await this.bus.close();
  }
}
