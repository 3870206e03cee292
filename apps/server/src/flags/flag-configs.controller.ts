import { Body, Controller, Get, Headers, HttpCode, Param, Post, Put, UseInterceptors } from '@nestjs/common';
import { ApiBearerAuth, ApiHeader, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { EnvironmentScoped, StopOperation, WritableBy } from '../common/auth.js';
import { type Actor, CurrentActor } from '../common/actor.js';
import { VersionETagInterceptor } from '../common/etag.interceptor.js';
import { parseIfMatch } from '../common/if-match.js';
import { ReasonDto } from '../common/reason.dto.js';
import { FlagConfigDto, FlagConfigView, RolloutDialDto } from './dto/flag-config.dto.js';
import { FlagConfigsService } from './flag-configs.service.js';

const IF_MATCH = { name: 'If-Match', required: false, description: 'The config version you edited ("7"); 412 when stale' };

@ApiTags('flag configs')
@ApiBearerAuth()
@UseInterceptors(VersionETagInterceptor)
@WritableBy('editor')
@EnvironmentScoped()
@Controller('api/v1/environments/:env/flags/:key')
export class FlagConfigsController {
  constructor(private readonly configs: FlagConfigsService) {}

  @Get()
  @ApiOkResponse({ type: FlagConfigView })
  @ApiOperation({ summary: "A flag's config in one environment; ETag is its version" })
  get(@Param('env') env: string, @Param('key') key: string) {
    return this.configs.get(env, key);
  }

  @Put()
  @ApiHeader(IF_MATCH)
  @ApiOkResponse({ type: FlagConfigView })
  @ApiOperation({ summary: 'Write the config: enabled, rules, prerequisites, salt (omitted fields keep their value)' })
  update(@CurrentActor() actor: Actor, @Param('env') env: string, @Param('key') key: string, @Headers('if-match') ifMatch: string | undefined, @Body() dto: FlagConfigDto) {
    return this.configs.update(actor, env, key, parseIfMatch(ifMatch), dto);
  }

  @Post('kill')
  @StopOperation()
  @HttpCode(200)
  @ApiHeader(IF_MATCH)
  @ApiOkResponse({ type: FlagConfigView })
  @ApiOperation({ summary: 'The kill switch: off for everyone in this environment' })
  kill(@CurrentActor() actor: Actor, @Param('env') env: string, @Param('key') key: string, @Headers('if-match') ifMatch: string | undefined, @Body() dto: ReasonDto) {
    return this.configs.kill(actor, env, key, parseIfMatch(ifMatch), dto.reason);
  }

  @Post('revive')
  @HttpCode(200)
  @ApiHeader(IF_MATCH)
  @ApiOkResponse({ type: FlagConfigView })
  @ApiOperation({ summary: 'Switch the flag back on (its rules apply again)' })
  revive(@CurrentActor() actor: Actor, @Param('env') env: string, @Param('key') key: string, @Headers('if-match') ifMatch: string | undefined, @Body() dto: ReasonDto) {
    return this.configs.revive(actor, env, key, parseIfMatch(ifMatch), dto.reason);
  }

  @Put('rollout')
  @ApiHeader(IF_MATCH)
  @ApiOkResponse({ type: FlagConfigView })
  @ApiOperation({ summary: "The canary dial: set a rule's rollout percentage in one call" })
  rollout(@CurrentActor() actor: Actor, @Param('env') env: string, @Param('key') key: string, @Headers('if-match') ifMatch: string | undefined, @Body() dto: RolloutDialDto) {
    return this.configs.rollout(actor, env, key, parseIfMatch(ifMatch), dto);
  }
}
