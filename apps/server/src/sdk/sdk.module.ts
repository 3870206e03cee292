import { Module } from '@nestjs/common';
import { StreamModule } from '../stream/stream.module.js';
import { SdkController } from './sdk.controller.js';
import { SdkService } from './sdk.service.js';

/** The SDK API; `SdkService` is also what OFREP authenticates and cuts rulesets with. */
@Module({ imports: [StreamModule], controllers: [SdkController], providers: [SdkService], exports: [SdkService, StreamModule] })
export class SdkModule {}
