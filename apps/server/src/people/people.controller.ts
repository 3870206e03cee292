import { Body, Controller, Delete, Get, HttpCode, Param, ParseUUIDPipe, Patch, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiCookieAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { type Actor, CurrentActor } from '../common/actor.js';
import { InvitedPersonView, InvitePersonDto, PersonView, UpdatePersonDto } from './dto/person.dto.js';
import { PeopleService } from './people.service.js';

const PERSON_ID = new ParseUUIDPipe({ version: undefined });

@ApiTags('people')
@ApiBearerAuth()
@ApiCookieAuth()
@Controller('api/v1/people')
export class PeopleController {
  constructor(private readonly people: PeopleService) {}

  @Get()
  @ApiOkResponse({ type: [PersonView] })
  @ApiOperation({ summary: 'Everyone with an account' })
  list() {
    return this.people.list();
  }

  @Post()
  @ApiCreatedResponse({ type: InvitedPersonView })
  @ApiOperation({ summary: 'Invite a person: answers a one-time inviteUrl (7 days) to pass on; no email is sent' })
  invite(@CurrentActor() actor: Actor, @Body() dto: InvitePersonDto) {
    return this.people.invite(actor, dto);
  }

  @Get(':id')
  @ApiOperation({ summary: 'One person' })
  get(@Param('id', PERSON_ID) id: string) {
    return this.people.get(id);
  }

  @Patch(':id')
  @ApiOkResponse({ type: PersonView })
  @ApiOperation({ summary: "Change a person's name, role or environments, or disable them (their sessions end at once)" })
  update(@CurrentActor() actor: Actor, @Param('id', PERSON_ID) id: string, @Body() dto: UpdatePersonDto) {
    return this.people.update(actor, id, dto);
  }

  @Get(':id/sessions')
  @ApiOperation({ summary: "A person's open sessions" })
  sessions(@Param('id', PERSON_ID) id: string) {
    return this.people.sessionsOf(id);
  }

  @Delete(':id/sessions/:sessionId')
  @HttpCode(204)
  @ApiOperation({ summary: "End one of a person's sessions" })
  endSession(@CurrentActor() actor: Actor, @Param('id', PERSON_ID) id: string, @Param('sessionId', PERSON_ID) sessionId: string) {
    return this.people.endSession(actor, id, sessionId);
  }

  @Post(':id/reset-link')
  @ApiOperation({ summary: 'A new one-time password reset link (7 days) to pass on (an invite link if they never accepted)' })
  resetLink(@CurrentActor() actor: Actor, @Param('id', PERSON_ID) id: string) {
    return this.people.createResetLink(actor, id);
  }
}
