import { Body, Controller, Delete, Get, Headers, HttpCode, Param, Patch, Post, Query, UseInterceptors } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiExtraModels, ApiHeader, ApiOkResponse, ApiOperation, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { WritableBy } from '../common/auth.js';
import { IsOptional, IsString, MaxLength } from 'class-validator';
import { type Actor, CurrentActor } from '../common/actor.js';
import { PageQuery } from '../common/paging.js';
import { ReasonDto } from '../common/reason.dto.js';
import { CreateFlagDto, FlagDetailView, FlagEnvironmentStateView, FlagView, UpdateFlagDto } from './dto/flag.dto.js';
import { DefinitionETagInterceptor, parseDefinitionIfMatch } from './definition-etag.js';
import { FlagsService } from './flags.service.js';

class FlagListQuery extends PageQuery {
  @ApiPropertyOptional({ description: 'Only flags with this tag' })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  tag?: string;
}

@ApiTags('flags')
@ApiBearerAuth()
@ApiExtraModels(FlagEnvironmentStateView)
@WritableBy('editor')
@Controller('api/v1/flags')
export class FlagsController {
  constructor(private readonly flags: FlagsService) {}

  @Get()
  @ApiOperation({ summary: 'List live flags (archived ones are left out)' })
  list(@Query() query: FlagListQuery) {
    return this.flags.list(query);
  }

  @Post()
  @ApiOperation({ summary: 'Create a flag; it starts disabled in every environment' })
  @ApiCreatedResponse({ type: FlagView })
  create(@CurrentActor() actor: Actor, @Body() dto: CreateFlagDto) {
    return this.flags.create(actor, dto);
  }

  @Get(':key')
  @UseInterceptors(DefinitionETagInterceptor)
  @ApiOkResponse({ type: FlagDetailView })
  @ApiOperation({ summary: 'A flag definition, with its state per environment' })
  get(@Param('key') key: string) {
    return this.flags.get(key);
  }

  @Patch(':key')
  @UseInterceptors(DefinitionETagInterceptor)
  @ApiHeader({ name: 'If-Match', required: false, description: 'The ETag of the definition you edited (GET answers it); 412 when it changed since' })
  @ApiOkResponse({ type: FlagView })
  @ApiOperation({ summary: 'Change name, description, tags, variants or client visibility' })
  update(@CurrentActor() actor: Actor, @Param('key') key: string, @Headers('if-match') ifMatch: string | undefined, @Body() dto: UpdateFlagDto) {
    return this.flags.update(actor, key, parseDefinitionIfMatch(ifMatch), dto);
  }

  @Delete(':key')
  @HttpCode(204)
  @ApiOperation({ summary: 'Archive a flag: it leaves every ruleset' })
  archive(@CurrentActor() actor: Actor, @Param('key') key: string, @Body() dto: ReasonDto) {
    return this.flags.archive(actor, key, dto.reason);
  }
}
