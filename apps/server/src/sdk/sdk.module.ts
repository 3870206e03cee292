import { Module } from '@nestjs/common';
import { StreamModule } from '../stream/stream.module.js';
import { SdkController } from './sdk.controller.js';
import { SdkService } from './sdk.service.js';

@Module({ imports: [StreamModule], controllers: [SdkController], providers: [SdkService] })
export class SdkModule {}
