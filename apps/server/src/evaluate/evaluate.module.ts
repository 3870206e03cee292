import { Module } from '@nestjs/common';
import { StreamModule } from '../stream/stream.module.js';
import { EvaluateController } from './evaluate.controller.js';
import { EvaluateService } from './evaluate.service.js';

@Module({ imports: [StreamModule], controllers: [EvaluateController], providers: [EvaluateService] })
export class EvaluateModule {}
