import { Module } from '@nestjs/common';
import { MetricsModule } from '../metrics/metrics.module.js';
import { SdkModule } from '../sdk/sdk.module.js';
import { OfrepController } from './ofrep.controller.js';
import { OfrepExposures } from './ofrep-exposures.js';
import { OfrepService } from './ofrep.service.js';

@Module({ imports: [SdkModule, MetricsModule], controllers: [OfrepController], providers: [OfrepService, OfrepExposures] })
export class OfrepModule {}
