import { Module } from '@nestjs/common';
import { StoredPatternsService } from './stored-patterns.service.js';

@Module({ providers: [StoredPatternsService], exports: [StoredPatternsService] })
export class PatternsModule {}
