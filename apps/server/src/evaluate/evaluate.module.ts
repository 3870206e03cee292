import { Module } from '@nestjs/common';
import { EvaluateController } from './evaluate.controller.js';
import { EvaluateService } from './evaluate.service.js';

@Module({ controllers: [EvaluateController], providers: [EvaluateService] })
export class EvaluateModule {}
