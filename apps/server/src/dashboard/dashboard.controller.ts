import { Controller, Get, Param, Req, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiCookieAuth, ApiExtraModels, ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { ServerResponse } from 'node:http';
import type { AviaryRequest } from '../common/actor.js';
import { FlagListService } from './flag-list.service.js';
import { FlagListView, LiveEventView, PlanEventView } from './flag-list.view.js';
import { LiveEventsService } from './live-events.service.js';

/** Reads shaped for the dashboard: open to every role and to admin keys. */
@ApiTags('dashboard')
@ApiBearerAuth()
@ApiCookieAuth()
@Controller('api/v1/environments/:env')
export class DashboardController {
  constructor(
    private readonly flagList: FlagListService,
    private readonly live: LiveEventsService,
  ) {}

  @Get('flags')
  @ApiOperation({ summary: 'Every live flag with its state in this environment and its last change (the dashboard\'s flag list)' })
  @ApiOkResponse({ type: FlagListView })
  flags(@Param('env') env: string): Promise<FlagListView> {
    return this.flagList.list(env);
  }

  @Get('events')
  @ApiOperation({
    summary:
      'Server-sent events for people: one `change` event (data: LiveEventView, id: the revision) per committed revision of this environment, ' +
      'and a `plan` event (data: PlanEventView, no id) whenever one of its rollout plans changes',
  })
  @ApiExtraModels(PlanEventView)
  @ApiProduces('text/event-stream')
  @ApiOkResponse({ type: LiveEventView, description: 'The data of each `change` event' })
  events(@Req() req: AviaryRequest, @Res() res: ServerResponse, @Param('env') env: string): Promise<void> {
    return this.live.open(req, res, env);
  }
}
