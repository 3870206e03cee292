import { Module, type OnModuleInit } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { ServerMetrics } from '../observability/server-metrics.js';
import { StreamModule } from '../stream/stream.module.js';
import { HealthController } from './health.controller.js';
import { ReadinessService } from './readiness.service.js';
import { ShutdownState } from './shutdown-state.js';

@Module({
  // Readiness logs its own transitions; terminus would log every failed probe.
  imports: [TerminusModule.forRoot({ logger: false }), StreamModule],
  controllers: [HealthController],
  providers: [ReadinessService, ShutdownState],
  exports: [ShutdownState],
})
export class HealthModule implements OnModuleInit {
  constructor(
    private readonly metrics: ServerMetrics,
    private readonly shutdown: ShutdownState,
  ) {}

  onModuleInit(): void {
    this.metrics.attach({ draining: () => this.shutdown.draining });
  }
}
