import { Injectable, NotFoundException } from '@nestjs/common';
import { type Context, evaluate, type Result } from '@aviary/core';
import { LiveRulesets } from '../stream/live-rulesets.js';
import type { EvaluateDto } from './dto/evaluate.dto.js';

export interface EvaluateAllResult {
  environment: string;
  revision: number;
  results: Record<string, Result>;
}

/** Evaluates with `@aviary/core` against the environment's ruleset in memory, the one this
 *  instance's SDK streams serve: the exact answer an SDK at the same revision gives. */
@Injectable()
export class EvaluateService {
  constructor(private readonly live: LiveRulesets) {}

  async evaluate(environment: string, dto: EvaluateDto): Promise<Result | EvaluateAllResult> {
    const ruleset = (await this.live.current(environment))?.ruleset;
    if (ruleset === undefined) throw new NotFoundException(`No environment "${environment}"`);
    const context = dto.context as Context;
    if (dto.flag !== undefined) return evaluate(ruleset, dto.flag, context);
    const results: Record<string, Result> = {};
    for (const key of Object.keys(ruleset.flags)) results[key] = evaluate(ruleset, key, context);
    return { environment, revision: ruleset.revision, results };
  }
}
