import { Body, Controller, Get, HttpCode, Param, ParseUUIDPipe, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiExtraModels, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { EnvironmentScoped, StopOperation, WritableBy } from '../common/auth.js';
import { type Actor, CurrentActor } from '../common/actor.js';
import { PageQuery } from '../common/paging.js';
import { ReasonDto } from '../common/reason.dto.js';
import { ArmCountsView, ArmMomentsView, CreateRolloutPlanDto, RolloutPlanPageView, RolloutPlanView } from './dto/rollout-plan.dto.js';
import { RolloutPlansService } from './rollout-plans.service.js';

const PLAN_ID = new ParseUUIDPipe({ version: undefined });

@ApiTags('rollout plans')
@ApiBearerAuth()
@ApiExtraModels(ArmCountsView, ArmMomentsView)
@WritableBy('editor')
@Controller('api/v1')
export class RolloutPlansController {
  constructor(private readonly plans: RolloutPlansService) {}

  @Post('environments/:env/flags/:key/rollout-plans')
  @EnvironmentScoped()
  @ApiOperation({ summary: "Create a plan that widens a rule's percentage step by step (pending, or running with start: true)" })
  @ApiCreatedResponse({ type: RolloutPlanView })
  create(@CurrentActor() actor: Actor, @Param('env') env: string, @Param('key') key: string, @Body() dto: CreateRolloutPlanDto) {
    return this.plans.create(actor, env, key, dto);
  }

  @Get('environments/:env/flags/:key/rollout-plans')
  @ApiOperation({ summary: "The flag's plans in this environment, newest first" })
  @ApiOkResponse({ type: RolloutPlanPageView })
  list(@Param('env') env: string, @Param('key') key: string, @Query() query: PageQuery) {
    return this.plans.list(env, key, query);
  }

  @Get('environments/:env/rollout-plans')
  @ApiOperation({ summary: "Every flag's plans in this environment, newest first" })
  @ApiOkResponse({ type: RolloutPlanPageView })
  listEnvironment(@Param('env') env: string, @Query() query: PageQuery) {
    return this.plans.list(env, undefined, query);
  }

  @Get('rollout-plans/:id')
  @ApiOperation({ summary: "One plan, with its history and the guard's last verdict" })
  @ApiOkResponse({ type: RolloutPlanView })
  get(@Param('id', PLAN_ID) id: string) {
    return this.plans.get(id);
  }

  @Post('rollout-plans/:id/start')
  @EnvironmentScoped('rollout-plan')
  @HttpCode(200)
  @ApiOperation({ summary: 'Start a pending plan: its first step is written at once' })
  @ApiOkResponse({ type: RolloutPlanView })
  start(@CurrentActor() actor: Actor, @Param('id', PLAN_ID) id: string, @Body() dto: ReasonDto) {
    return this.plans.act(actor, id, 'start', dto.reason);
  }

  @Post('rollout-plans/:id/pause')
  @EnvironmentScoped('rollout-plan')
  @StopOperation()
  @HttpCode(200)
  @ApiOperation({ summary: "Pause a running plan: the current step's hold stops counting (the guard keeps watching)" })
  @ApiOkResponse({ type: RolloutPlanView })
  pause(@CurrentActor() actor: Actor, @Param('id', PLAN_ID) id: string, @Body() dto: ReasonDto) {
    return this.plans.act(actor, id, 'pause', dto.reason);
  }

  @Post('rollout-plans/:id/resume')
  @EnvironmentScoped('rollout-plan')
  @HttpCode(200)
  @ApiOperation({ summary: 'Resume a paused plan with what was left of its hold' })
  @ApiOkResponse({ type: RolloutPlanView })
  resume(@CurrentActor() actor: Actor, @Param('id', PLAN_ID) id: string, @Body() dto: ReasonDto) {
    return this.plans.act(actor, id, 'resume', dto.reason);
  }

  @Post('rollout-plans/:id/approve')
  @EnvironmentScoped('rollout-plan')
  @HttpCode(200)
  @ApiOperation({ summary: 'Approve the next widening of a plan awaiting approval: it is written at once' })
  @ApiOkResponse({ type: RolloutPlanView })
  approve(@CurrentActor() actor: Actor, @Param('id', PLAN_ID) id: string, @Body() dto: ReasonDto) {
    return this.plans.act(actor, id, 'approve', dto.reason);
  }

  @Post('rollout-plans/:id/cancel')
  @EnvironmentScoped('rollout-plan')
  @StopOperation()
  @HttpCode(200)
  @ApiOperation({ summary: 'Stop an active plan; the rule keeps its current percentage' })
  @ApiOkResponse({ type: RolloutPlanView })
  cancel(@CurrentActor() actor: Actor, @Param('id', PLAN_ID) id: string, @Body() dto: ReasonDto) {
    return this.plans.act(actor, id, 'cancel', dto.reason);
  }

  @Post('rollout-plans/:id/rollback')
  @EnvironmentScoped('rollout-plan')
  @StopOperation()
  @HttpCode(200)
  @ApiOperation({ summary: 'Stop an active plan and kill the flag' })
  @ApiOkResponse({ type: RolloutPlanView })
  rollback(@CurrentActor() actor: Actor, @Param('id', PLAN_ID) id: string, @Body() dto: ReasonDto) {
    return this.plans.act(actor, id, 'rollback', dto.reason);
  }
}
