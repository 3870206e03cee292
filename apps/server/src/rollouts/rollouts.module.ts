import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module.js';
import { FlagsModule } from '../flags/flags.module.js';
import { MetricsModule } from '../metrics/metrics.module.js';
import { StreamModule } from '../stream/stream.module.js';
import { GuardMonitor } from './guard-monitor.js';
import { RolloutPlansController } from './rollout-plans.controller.js';
import { RolloutPlansRepository } from './rollout-plans.repository.js';
import { RolloutPlansService } from './rollout-plans.service.js';
import { RolloutScheduler } from './rollout-scheduler.js';

@Module({
  imports: [AuditModule, FlagsModule, MetricsModule, StreamModule],
  controllers: [RolloutPlansController],
  providers: [RolloutPlansService, RolloutPlansRepository, GuardMonitor, RolloutScheduler],
})
export class RolloutsModule {}
