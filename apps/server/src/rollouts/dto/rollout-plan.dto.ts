import { ApiProperty, ApiPropertyOptional, getSchemaPath } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize, ArrayMinSize, ArrayUnique, IsArray, IsBoolean, IsIn, IsInt, IsOptional, IsString, Max, MaxLength, Min, MinLength, ValidateIf, ValidateNested,
} from 'class-validator';
import { ReasonDto } from '../../common/reason.dto.js';
import { IsFiniteNumber, IsNumberWithDecimals, IsResourceKey, KnownElsewhere, NOT_EMPTY } from '../../common/validation.js';
import { METRIC_SOURCES, type MetricSource } from '../../metrics/metric-source.js';
import { INSUFFICIENT_DATA_POLICIES, type InsufficientDataPolicy, PLAN_ACTIONS, PLAN_STATES, type PlanAction, type PlanState } from '../plan-lifecycle.js';

export const MAX_STEPS = 20;
/** 30 days. */
export const MAX_HOLD_SECONDS = 2_592_000;
/** 120 days: the default longest hold of the longest hold. */
export const MAX_MAX_HOLD_SECONDS = 4 * MAX_HOLD_SECONDS;

const MAX_HOLD_DESCRIPTION =
  'How long a guarded step may hold in all, waiting for the guard to judge it (both arms at minSamples, no breach), ' +
  'before the plan pauses with insufficient-data; at least holdSeconds. Default: the plan\'s maxHoldSeconds, else 4 × holdSeconds';

export class PlanStepDto {
  @ApiProperty({ minimum: 0, maximum: 100, example: 5, description: 'The rule\'s rollout percentage at this step; at most three decimals' })
  @IsNumberWithDecimals(3)
  @Min(0)
  @Max(100)
  percentage!: number;

  @ApiProperty({ minimum: 0, maximum: MAX_HOLD_SECONDS, example: 300, description: 'How long the step holds before the next one; at most three decimals' })
  @IsNumberWithDecimals(3, 'a number of seconds')
  @Min(0)
  @Max(MAX_HOLD_SECONDS)
  holdSeconds!: number;

  @ApiPropertyOptional({ minimum: 0, maximum: MAX_MAX_HOLD_SECONDS, example: 1200, description: MAX_HOLD_DESCRIPTION })
  @IsOptional()
  @IsNumberWithDecimals(3, 'a number of seconds')
  @Min(0)
  @Max(MAX_MAX_HOLD_SECONDS)
  maxHoldSeconds?: number;
}

export const MAX_GUARDS = 10;

export class PlanGuardDto {
  @ApiPropertyOptional({ example: 'error', maxLength: 128, description: 'A ratio guard: tracked event counted in the ratio\'s numerator' })
  @ValidateIf((guard: PlanGuardDto) => guard.metric === undefined)
  @IsString()
  @MinLength(1, NOT_EMPTY)
  @MaxLength(128)
  numerator?: string;

  @ApiPropertyOptional({ example: 'request', maxLength: 128, description: 'A ratio guard: tracked event counted in the ratio\'s denominator' })
  @ValidateIf((guard: PlanGuardDto) => guard.metric === undefined)
  @IsString()
  @MinLength(1, NOT_EMPTY)
  @MaxLength(128)
  denominator?: string;

  @ApiPropertyOptional({
    example: 'latency',
    maxLength: 128,
    description: 'A mean guard instead: the tracked value whose mean it watches (`track(\'latency\', ctx, { value: 183 })`); no numerator or denominator then',
  })
  @IsOptional()
  @IsString()
  @MinLength(1, NOT_EMPTY)
  @MaxLength(128)
  metric?: string;

  @ApiProperty({ minimum: 0, maximum: 100, example: 0.5, description: '0.5: breach when the exposed ratio (or mean) is above 1.5 × the control\'s' })
  @IsFiniteNumber()
  @Min(0)
  @Max(100)
  maxRelativeIncrease!: number;

  @ApiProperty({ minimum: 1, maximum: 1_000_000_000, example: 200, description: 'Denominator events (a mean guard: values) each arm needs before the guard decides' })
  @IsInt()
  @Min(1)
  @Max(1_000_000_000)
  minSamples!: number;

  @ApiPropertyOptional({ minimum: 0.000001, maximum: 0.5, default: 0.01, description: 'False-alarm rate over the whole plan' })
  @IsOptional()
  @IsFiniteNumber()
  @Min(0.000001)
  @Max(0.5)
  falseAlarmRate?: number;

  @ApiPropertyOptional({
    enum: METRIC_SOURCES,
    isArray: true,
    default: METRIC_SOURCES,
    description:
      'Whose reports the guard counts: `server` (server keys: your backends) and `client` (client keys: browsers). ' +
      'Client keys are public, so anyone can report with one; `["server"]` keeps browsers out of the verdict.',
  })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1, NOT_EMPTY)
  @ArrayUnique()
  @IsIn(METRIC_SOURCES, { each: true })
  sources?: MetricSource[];
}

const PER_STEP = 'set it per step: steps: [{ percentage, holdSeconds }]';

@KnownElsewhere({
  percentage: PER_STEP,
  holdSeconds: PER_STEP,
  state: 'move a plan with POST /api/v1/rollout-plans/:id/start (or pause, resume, approve, cancel, rollback)',
})
export class CreateRolloutPlanDto extends ReasonDto {
  @IsResourceKey({ example: 'r1', description: 'The rule whose rollout percentage the plan moves' })
  ruleId!: string;

  @ApiProperty({ type: [PlanStepDto], minItems: 1, maxItems: MAX_STEPS, description: 'Percentages must not decrease' })
  @IsArray()
  @ArrayMinSize(1, NOT_EMPTY)
  @ArrayMaxSize(MAX_STEPS)
  @ValidateNested({ each: true })
  @Type(() => PlanStepDto)
  steps!: PlanStepDto[];

  @ApiPropertyOptional({ type: PlanGuardDto, description: 'One guard; or `guards`' })
  @IsOptional()
  @ValidateNested()
  @Type(() => PlanGuardDto)
  guard?: PlanGuardDto;

  @ApiPropertyOptional({ type: [PlanGuardDto], minItems: 1, maxItems: MAX_GUARDS, description: 'Several guards: any breach rolls the plan back; a step widens once every guard judged it' })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1, NOT_EMPTY)
  @ArrayMaxSize(MAX_GUARDS)
  @ValidateNested({ each: true })
  @Type(() => PlanGuardDto)
  guards?: PlanGuardDto[];

  @ApiPropertyOptional({ minimum: 0, maximum: MAX_MAX_HOLD_SECONDS, description: `${MAX_HOLD_DESCRIPTION} (for every step that sets none)` })
  @IsOptional()
  @IsNumberWithDecimals(3, 'a number of seconds')
  @Min(0)
  @Max(MAX_MAX_HOLD_SECONDS)
  maxHoldSeconds?: number;

  @ApiPropertyOptional({
    enum: INSUFFICIENT_DATA_POLICIES,
    default: 'pause',
    description: 'A guarded step whose longest hold ends before the guard could judge it: `pause` the plan (insufficient-data), or `continue` widening blind',
  })
  @IsOptional()
  @IsIn(INSUFFICIENT_DATA_POLICIES)
  onInsufficientData?: InsufficientDataPolicy;

  @ApiPropertyOptional({ default: false, description: 'Wait in awaiting-approval before each widening' })
  @IsOptional()
  @IsBoolean()
  requireApproval?: boolean;

  @ApiPropertyOptional({ default: false, description: 'Start at once (state running) instead of pending' })
  @IsOptional()
  @IsBoolean()
  start?: boolean;
}

export class ArmCountsView {
  @ApiProperty() numerator!: number;
  @ApiProperty() denominator!: number;
}

export class ArmMomentsView {
  @ApiProperty() count!: number;
  @ApiProperty() sum!: number;
  @ApiProperty() sumSquares!: number;
}

/** An arm's counts (a ratio guard) or moments (a mean guard), as one schema. */
const ARM = { oneOf: [{ $ref: getSchemaPath(ArmCountsView) }, { $ref: getSchemaPath(ArmMomentsView) }] };

/** One guard's look. A ratio guard has ratios and counts, a mean guard means and moments. */
export class GuardLookView {
  @ApiProperty({ example: 'error/request', description: '`numerator/denominator`, or `mean <metric>`' }) guard!: string;
  @ApiProperty({ enum: ['ok', 'breach', 'insufficient-data'] }) status!: 'ok' | 'breach' | 'insufficient-data';
  @ApiProperty() breached!: boolean;
  @ApiProperty() z!: number;
  @ApiProperty() logLikelihoodRatio!: number;
  @ApiProperty() threshold!: number;
  @ApiProperty() pValue!: number;
  @ApiPropertyOptional() exposedRatio?: number;
  @ApiPropertyOptional() controlRatio?: number;
  @ApiPropertyOptional() exposedMean?: number;
  @ApiPropertyOptional() controlMean?: number;
  @ApiProperty({ ...ARM, description: 'A ratio guard: { numerator, denominator }; a mean guard: { count, sum, sumSquares }' }) exposed!: ArmCountsView | ArmMomentsView;
  @ApiProperty(ARM) control!: ArmCountsView | ArmMomentsView;
}


/** The plan's verdict: every guard's look, and at the top the deciding one's (a breach, else one
 *  still without evidence, else the first guard), so a one-guard plan reads as before. */
export class GuardVerdictView {
  @ApiProperty({ enum: ['ok', 'breach', 'insufficient-data'], description: 'breach if any guard breached; insufficient-data if any guard has not judged yet' })
  status!: 'ok' | 'breach' | 'insufficient-data';
  @ApiPropertyOptional({ description: 'The deciding guard' }) guard?: string;
  @ApiProperty() breached!: boolean;
  @ApiProperty({ description: 'The Wald statistic of exposed − (1 + maxRelativeIncrease) × control, for people; the decision is the mSPRT\'s' }) z!: number;
  @ApiProperty({ description: 'log of the mixture SPRT likelihood ratio at this look' }) logLikelihoodRatio!: number;
  @ApiProperty({ description: 'ln(1 / falseAlarmRate): the logLikelihoodRatio at which the guard breaches' }) threshold!: number;
  @ApiProperty({ description: 'Always-valid p-value of this look, min(1, 1/likelihood ratio): a breach when at most falseAlarmRate' }) pValue!: number;
  @ApiPropertyOptional() exposedRatio?: number;
  @ApiPropertyOptional() controlRatio?: number;
  @ApiPropertyOptional() exposedMean?: number;
  @ApiPropertyOptional() controlMean?: number;
  @ApiProperty(ARM) exposed!: ArmCountsView | ArmMomentsView;
  @ApiProperty(ARM) control!: ArmCountsView | ArmMomentsView;
  @ApiPropertyOptional({ type: [GuardLookView], description: 'Each guard\'s look, in the order of `guards`' }) guards?: GuardLookView[];
  @ApiProperty({ description: 'Looks taken with enough data so far' }) looks!: number;
  @ApiProperty() at!: string;
}

export class PlanWarningView {
  @ApiProperty({ enum: ['no-traffic', 'sample-ratio-mismatch', 'flag-disabled', 'step-failed', 'insufficient-data'] }) code!: string;
  @ApiProperty({ type: Number, nullable: true }) stepIndex!: number | null;
  @ApiProperty() at!: string;
  @ApiProperty() message!: string;
}

export class PlanHistoryView {
  @ApiProperty() at!: string;
  @ApiProperty({ example: 'step', description: 'created, started, step, paused, resumed, awaiting-approval, approved, completed, cancelled, rolled-back, warning' })
  type!: string;
  @ApiProperty({ type: Number, nullable: true }) stepIndex!: number | null;
  @ApiProperty({ type: Number, nullable: true }) percentage!: number | null;
  @ApiProperty({ type: Number, nullable: true, description: 'The environment revision a step or kill committed' }) revision!: number | null;
  @ApiProperty({ description: 'An API key name, or rollout-plan:<id> for the scheduler' }) actor!: string;
  @ApiProperty({ type: String, nullable: true }) reason!: string | null;
  @ApiProperty({ type: GuardVerdictView, nullable: true }) verdict!: GuardVerdictView | null;
}

export class RolloutPlanView {
  @ApiProperty() id!: string;
  @ApiProperty() environment!: string;
  @ApiProperty() flag!: string;
  @ApiProperty() ruleId!: string;
  @ApiProperty({ enum: PLAN_STATES }) state!: PlanState;
  @ApiProperty({ enum: PLAN_ACTIONS, isArray: true, description: 'The actions (POST /rollout-plans/:id/<action>) its state accepts' }) actions!: PlanAction[];
  @ApiProperty({ type: Number, nullable: true, description: 'The step whose percentage is live; null before start' }) stepIndex!: number | null;
  @ApiProperty({ type: [PlanStepDto] }) steps!: PlanStepDto[];
  @ApiProperty({ type: PlanGuardDto, nullable: true, description: 'The first guard (of `guards`)' }) guard!: PlanGuardDto | null;
  @ApiProperty({ type: [PlanGuardDto] }) guards!: PlanGuardDto[];
  @ApiProperty() requireApproval!: boolean;
  @ApiProperty({ type: Number, nullable: true, description: 'The plan\'s maxHoldSeconds; null: 4 × each step\'s hold' }) maxHoldSeconds!: number | null;
  @ApiProperty({ enum: INSUFFICIENT_DATA_POLICIES }) onInsufficientData!: InsufficientDataPolicy;
  @ApiProperty({ type: String, nullable: true, description: 'A guarded running plan: past this, the current step pauses the plan unless the guard has judged it' })
  evidenceDeadlineAt!: string | null;
  @ApiProperty({ type: String, nullable: true }) startedAt!: string | null;
  @ApiProperty({ type: String, nullable: true }) stepStartedAt!: string | null;
  @ApiProperty({ type: String, nullable: true, description: 'When the scheduler acts next (running plans only)' }) nextStepAt!: string | null;
  @ApiProperty({ type: GuardVerdictView, nullable: true, description: "The guard's last verdict" }) verdict!: GuardVerdictView | null;
  @ApiProperty({ type: [PlanWarningView] }) warnings!: PlanWarningView[];
  @ApiProperty({ type: String, nullable: true, enum: ['completed', 'rolled-back', 'cancelled'] }) outcome!: PlanState | null;
  @ApiProperty({ type: String, nullable: true, description: 'Why the plan is in its state (a breach names the numbers)' }) reason!: string | null;
  @ApiProperty() createdBy!: string;
  @ApiProperty() createdAt!: string;
  @ApiProperty() updatedAt!: string;
  @ApiProperty({ type: String, nullable: true }) finishedAt!: string | null;
  @ApiPropertyOptional({ type: [PlanHistoryView], description: 'GET /rollout-plans/:id only, oldest first' }) history?: PlanHistoryView[];
}

export class RolloutPlanPageView {
  @ApiProperty({ type: [RolloutPlanView] }) items!: RolloutPlanView[];
  @ApiProperty({ nullable: true, type: String }) nextCursor!: string | null;
}
