import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Operators } from '@aviary/core';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize, IsArray, IsBoolean, IsIn, IsInt, IsOptional, IsString, Max, MaxLength, Min, MinLength,
  ValidateNested,
} from 'class-validator';
import { IsContextValue } from '../../common/context-value.js';
import { ReasonDto } from '../../common/reason.dto.js';
import { IsFiniteNumber, IsNumberWithDecimals, IsOptionalArrayOf, IsResourceKey, KnownElsewhere, NOT_EMPTY } from '../../common/validation.js';

export class ConditionDto {
  @ApiProperty({ example: 'country', maxLength: 256 })
  @IsString()
  @MinLength(1, NOT_EMPTY)
  @MaxLength(256)
  attribute!: string;

  @ApiProperty({ enum: Operators, example: 'in' })
  @IsIn(Operators as unknown as string[], { message: `$property must be one of ${Operators.join(', ')}` })
  operator!: string;

  @ApiPropertyOptional({ type: 'array', items: { oneOf: [{ type: 'string' }, { type: 'number' }, { type: 'boolean' }] }, example: ['NL', 'DE'] })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(1000)
  @IsContextValue({ each: true })
  values?: Array<string | number | boolean>;

  @ApiPropertyOptional() @IsOptional() @IsBoolean() negate?: boolean;
  @ApiPropertyOptional() @IsOptional() @IsBoolean() caseInsensitive?: boolean;
}

export class RolloutDto {
  @ApiProperty({ minimum: 0, maximum: 100, example: 5, description: 'At most three decimals' })
  @IsFiniteNumber()
  @Min(0)
  @Max(100)
  percentage!: number;

  @ApiPropertyOptional({ default: 'key', maxLength: 256 })
  @IsOptional()
  @IsString()
  @MinLength(1, NOT_EMPTY)
  @MaxLength(256)
  bucketBy?: string;

  @ApiPropertyOptional({ description: "Defaults to the flag's salt", maxLength: 256 })
  @IsOptional()
  @IsString()
  @MaxLength(256)
  salt?: string;
}

export class SplitArmDto {
  @IsResourceKey({ example: 'blue' })
  variant!: string;

  @ApiProperty({ minimum: 0, maximum: 1_000_000 })
  @IsInt()
  @Min(0)
  @Max(1_000_000)
  weight!: number;
}

@KnownElsewhere({
  percentage: 'set it as rollout: { percentage }',
  variants: 'serve one with variant, or several with split: [{ variant, weight }]',
})
export class RuleDto {
  @IsResourceKey({ example: 'canary' })
  id!: string;

  @IsOptionalArrayOf(ConditionDto, 50)
  conditions?: ConditionDto[];

  @ApiPropertyOptional({ type: [String], maxItems: 20, description: 'Cohort keys; the user must be in all of them' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(20)
  @IsString({ each: true })
  @MaxLength(64, { each: true })
  cohorts?: string[];

  @ApiPropertyOptional({ type: RolloutDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => RolloutDto)
  rollout?: RolloutDto;

  @ApiPropertyOptional({ description: 'Serve this variant' })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  variant?: string;

  @IsOptionalArrayOf(SplitArmDto, 100)
  split?: SplitArmDto[];
}

export class PrerequisiteDto {
  @IsResourceKey({ example: 'payments-v2' })
  flag!: string;

  @ApiPropertyOptional({ default: true, description: 'Whether the prerequisite must be on (true) or off (false)' })
  @IsOptional()
  @IsBoolean()
  enabled?: boolean;

  @ApiPropertyOptional({ type: [String], maxItems: 100 })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(100)
  @IsString({ each: true })
  @MaxLength(64, { each: true })
  variants?: string[];
}

const FOR_EVERY_ENVIRONMENT = 'for every environment with PATCH /api/v1/flags/:key';
const PLANS = 'plan steps with POST PUT /api/v1/environments/:env/flags/:key/rollout-plans';
const IF_MATCH = 'send it as the If-Match header';

/** A flag's config in one environment. Omitted fields keep their current value. */
@KnownElsewhere({
  percentage: 'set it with PUT /api/v1/environments/:env/flags/:key/rollout',
  name: `set it ${FOR_EVERY_ENVIRONMENT}`,
  description: `set it ${FOR_EVERY_ENVIRONMENT}`,
  clientVisible: `set it ${FOR_EVERY_ENVIRONMENT}`,
  tags: `set them ${FOR_EVERY_ENVIRONMENT}`,
  variants: `set them ${FOR_EVERY_ENVIRONMENT}`,
  steps: PLANS,
  version: IF_MATCH,
})
export class FlagConfigDto extends ReasonDto {
  @ApiPropertyOptional({ description: 'false is the kill switch' })
  @IsOptional()
  @IsBoolean()
  enabled?: boolean;

  @ApiPropertyOptional({ description: "Bucketing salt; defaults to the flag's key", maxLength: 256 })
  @IsOptional()
  @IsString()
  @MinLength(1, NOT_EMPTY)
  @MaxLength(256)
  salt?: string;

  @IsOptionalArrayOf(RuleDto, 200)
  rules?: RuleDto[];

  @IsOptionalArrayOf(PrerequisiteDto, 20)
  prerequisites?: PrerequisiteDto[];
}

@KnownElsewhere({
  enabled: 'set it with PUT /api/v1/environments/:env/flags/:key',
  rules: 'set them with PUT /api/v1/environments/:env/flags/:key',
  steps: PLANS,
  holdSeconds: PLANS,
  version: IF_MATCH,
})
export class RolloutDialDto extends ReasonDto {
  @ApiProperty({ minimum: 0, maximum: 100, example: 5, description: 'At most three decimals' })
  @IsNumberWithDecimals(3)
  @Min(0)
  @Max(100)
  percentage!: number;

  @ApiPropertyOptional({ description: 'The rule to dial; optional when the flag has at most one rule' })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  ruleId?: string;
}

export class FlagConfigView {
  @ApiProperty() flag!: string;
  @ApiProperty() environment!: string;
  @ApiProperty() enabled!: boolean;
  @ApiProperty() salt!: string;
  @ApiProperty({ type: [RuleDto] }) rules!: RuleDto[];
  @ApiProperty({ type: [PrerequisiteDto] }) prerequisites!: PrerequisiteDto[];
  @ApiProperty({ description: 'Grows with every write; send it back as If-Match' }) version!: number;
  @ApiProperty({ description: 'The environment revision after the last write' }) revision!: number;
  @ApiProperty({ nullable: true, type: String, format: 'date-time' }) updatedAt!: string | null;
}
