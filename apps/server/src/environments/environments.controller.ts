import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { type Actor, CurrentActor } from '../common/actor.js';
import { PageQuery } from '../common/paging.js';
import { ReasonDto } from '../common/reason.dto.js';
import { CreateEnvironmentDto, EnvironmentPageView, UpdateEnvironmentDto } from './dto/environment.dto.js';
import { EnvironmentsService } from './environments.service.js';

@ApiTags('environments')
@ApiBearerAuth()
@Controller('api/v1/environments')
export class EnvironmentsController {
  constructor(private readonly environments: EnvironmentsService) {}

  @Get()
  @ApiOperation({ summary: 'List environments with their current revision' })
  @ApiOkResponse({ type: EnvironmentPageView })
  list(@Query() query: PageQuery) {
    return this.environments.list(query);
  }

  @Post()
  @ApiOperation({ summary: 'Create an environment; every flag starts disabled in it' })
  create(@CurrentActor() actor: Actor, @Body() dto: CreateEnvironmentDto) {
    return this.environments.create(actor, dto);
  }

  @Get(':env')
  @ApiOperation({ summary: 'One environment' })
  get(@Param('env') env: string) {
    return this.environments.get(env);
  }

  @Patch(':env')
  @ApiOperation({ summary: 'Rename or describe an environment' })
  update(@CurrentActor() actor: Actor, @Param('env') env: string, @Body() dto: UpdateEnvironmentDto) {
    return this.environments.update(actor, env, dto);
  }

  @Delete(':env')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete an environment with its flag configs (refused while API keys are bound to it)' })
  remove(@CurrentActor() actor: Actor, @Param('env') env: string, @Body() dto: ReasonDto) {
    return this.environments.remove(actor, env, dto.reason);
  }
}
