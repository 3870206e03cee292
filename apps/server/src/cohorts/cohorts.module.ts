import { Module } from '@nestjs/common';
import { CohortsController } from './cohorts.controller.js';
import { CohortsService } from './cohorts.service.js';

@Module({ controllers: [CohortsController], providers: [CohortsService] })
export class CohortsModule {}
