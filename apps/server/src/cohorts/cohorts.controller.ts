import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { WritableBy } from '../common/auth.js';
import { type Actor, CurrentActor } from '../common/actor.js';
import { PageQuery } from '../common/paging.js';
import { ReasonDto } from '../common/reason.dto.js';
import { CohortsService } from './cohorts.service.js';
import { MembersBodyPipe, type MembersInput } from './members-body.pipe.js';
import {
  CohortMembersDto, CohortPageView, CohortView, CreateCohortDto, MemberLookupView, MembersPageView, MembersQuery, MembersResultView, UpdateCohortDto,
} from './dto/cohort.dto.js';

@ApiTags('cohorts')
@ApiBearerAuth()
@WritableBy('editor')
@Controller('api/v1/cohorts')
export class CohortsController {
  constructor(private readonly cohorts: CohortsService) {}

  @Get()
  @ApiOkResponse({ type: CohortPageView })
  @ApiOperation({ summary: 'List cohorts with their member counts' })
  list(@Query() query: PageQuery) {
    return this.cohorts.list(query);
  }

  @Post()
  @ApiCreatedResponse({ type: CohortView })
  @ApiOperation({ summary: 'Create a cohort (members are added through /members)' })
  create(@CurrentActor() actor: Actor, @Body() dto: CreateCohortDto) {
    return this.cohorts.create(actor, dto);
  }

  @Get(':key')
  @ApiOkResponse({ type: CohortView })
  @ApiOperation({ summary: 'One cohort with its member counts' })
  get(@Param('key') key: string) {
    return this.cohorts.get(key);
  }

  @Patch(':key')
  @ApiOkResponse({ type: CohortView })
  @ApiOperation({ summary: 'Change name, description or conditions' })
  update(@CurrentActor() actor: Actor, @Param('key') key: string, @Body() dto: UpdateCohortDto) {
    return this.cohorts.update(actor, key, dto);
  }

  @Delete(':key')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a cohort (refused while a flag rule uses it)' })
  remove(@CurrentActor() actor: Actor, @Param('key') key: string, @Body() dto: ReasonDto) {
    return this.cohorts.remove(actor, key, dto.reason);
  }

  @Post(':key/members')
  @HttpCode(200)
  @ApiOkResponse({ type: MembersResultView })
  @ApiOperation({ summary: 'Add, remove or exclude up to 100,000 member keys per list in one call' })
  @ApiBody({ type: CohortMembersDto })
  // Typed with a type, not the DTO class: the global pipe passes the body to MembersBodyPipe as it came.
  updateMembers(@CurrentActor() actor: Actor, @Param('key') key: string, @Body(MembersBodyPipe) dto: MembersInput) {
    return this.cohorts.updateMembers(actor, key, dto);
  }

  @Get(':key/members')
  @ApiOkResponse({ type: MembersPageView })
  @ApiOperation({ summary: 'One page of the included (or excluded) member keys, in key order' })
  members(@Param('key') key: string, @Query() query: MembersQuery) {
    return this.cohorts.members(key, query);
  }

  @Get(':key/members/:member')
  @ApiOkResponse({ type: MemberLookupView })
  @ApiOperation({ summary: 'Whether one key is in the included or the excluded list (one indexed lookup)' })
  member(@Param('key') key: string, @Param('member') member: string) {
    return this.cohorts.member(key, member);
  }
}
