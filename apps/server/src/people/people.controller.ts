import { Body, Controller, Delete, Get, HttpCode, Param, ParseUUIDPipe, Patch, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiCookieAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { type Actor, CurrentActor } from '../common/actor.js';
import { Requires } from '../common/auth.js';
import { ReasonDto } from '../common/reason.dto.js';
import { InvitedPersonView, InvitePersonDto, LinkView, PersonView, SessionView, UpdatePersonDto } from './dto/person.dto.js';
import { PeopleAdmin } from './people-admin.service.js';

const ID = new ParseUUIDPipe({ version: undefined });

@ApiTags('people')
@ApiBearerAuth()
@ApiCookieAuth()
@Controller('api/v1/people')
export class PeopleController {
  constructor(private readonly people: PeopleAdmin) {}

  @Get()
  @ApiOkResponse({ type: [PersonView] })
  @ApiOperation({ summary: 'Everyone who can sign in, or was invited' })
  list() {
    return this.people.list();
  }

  @Post()
  @ApiOkResponse({ type: InvitedPersonView })
  @ApiOperation({ summary: 'Invite a person: answers a one-time inviteUrl (7 days) to pass on; no email is sent' })
  invite(@CurrentActor() actor: Actor, @Body() dto: InvitePersonDto) {
    return this.people.invite(actor, dto);
  }

  @Get(':id')
  @ApiOkResponse({ type: PersonView })
  get(@Param('id', ID) id: string) {
    return this.people.get(id);
  }

  @Patch(':id')
  @ApiOkResponse({ type: PersonView })
  @ApiOperation({ summary: 'Change name, role, environments, or disable (ends their sessions at once)' })
  update(@CurrentActor() actor: Actor, @Param('id', ID) id: string, @Body() dto: UpdatePersonDto) {
    return this.people.update(actor, id, dto);
  }

  @Post(':id/reset-link')
  @ApiOkResponse({ type: LinkView })
  @ApiOperation({ summary: 'A new one-time link to choose a password (24 h; an invite again, 7 days, if never accepted)' })
  resetLink(@CurrentActor() actor: Actor, @Param('id', ID) id: string, @Body() dto: ReasonDto) {
    return this.people.resetLink(actor, id, dto.reason);
  }

  @Get(':id/sessions')
  @Requires('admin')
  @ApiOkResponse({ type: [SessionView] })
  sessions(@Param('id', ID) id: string) {
    return this.people.sessions(id);
  }

  @Delete(':id/sessions/:sessionId')
  @HttpCode(204)
  @ApiOperation({ summary: "End one of a person's sessions" })
  revokeSession(@CurrentActor() actor: Actor, @Param('id', ID) id: string, @Param('sessionId', ID) sessionId: string, @Body() dto: ReasonDto) {
    return this.people.revokeSession(actor, id, sessionId, dto.reason);
  }
}
