import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

/** `@aviary/core`'s Result (docs/evaluation.md "Result"), as the OpenAPI document describes it. */
export class ResultView {
  @ApiProperty() enabled!: boolean;
  @ApiProperty({ enum: ['DISABLED', 'PREREQUISITE_FAILED', 'DEFAULT', 'RULE_MATCH', 'NO_MATCH', 'FLAG_NOT_FOUND', 'ERROR'] }) reason!: string;
  @ApiPropertyOptional() variant?: string;
  @ApiPropertyOptional({ description: 'The variant\'s value (any JSON)' }) value?: unknown;
  @ApiPropertyOptional() ruleId?: string;
  @ApiPropertyOptional() errorCode?: string;
}

/** Every flag's result for one context (`flag` omitted). */
export class EvaluationsView {
  @ApiProperty() environment!: string;
  @ApiProperty() revision!: number;
  @ApiProperty({ type: 'object', additionalProperties: { $ref: '#/components/schemas/ResultView' } }) results!: Record<string, ResultView>;
}
