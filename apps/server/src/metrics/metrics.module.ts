import { Module } from '@nestjs/common';
import { FlagMetricsController, SdkMetricsController } from './metrics.controller.js';
import { MetricsService } from './metrics.service.js';

@Module({ controllers: [SdkMetricsController, FlagMetricsController], providers: [MetricsService], exports: [MetricsService] })
export class MetricsModule {}
