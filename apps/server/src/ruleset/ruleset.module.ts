import { Global, Module } from '@nestjs/common';
import { RulesetService } from './ruleset.service.js';

@Global()
@Module({ providers: [RulesetService], exports: [RulesetService] })
export class RulesetModule {}
