import { Body, Controller, Get, Param, Post, Query, Req, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { ServerResponse } from 'node:http';
import type { AviaryRequest } from '../common/actor.js';
import { AllowKeys } from '../common/auth.js';
import { OfrepService } from './ofrep.service.js';

/** OpenFeature Remote Evaluation Protocol (open-feature/protocol service/openapi.yaml, docs/ofrep.md). */
@ApiTags('ofrep')
@ApiBearerAuth()
@AllowKeys('server', 'client')
@Controller()
export class OfrepController {
  constructor(private readonly ofrep: OfrepService) {}

  @Post('ofrep/v1/evaluate/flags/:key')
  @ApiOperation({ summary: 'OFREP: evaluate one flag for a context (counted as an exposure)' })
  evaluateFlag(@Req() req: AviaryRequest, @Res() res: ServerResponse, @Param('key') key: string, @Body() body: unknown): Promise<void> {
    return this.ofrep.evaluateFlag(req.apiKey!, key, body, res);
  }

  @Post('ofrep/v1/evaluate/flags')
  @ApiOperation({ summary: 'OFREP: evaluate every flag for a context; ETag / If-None-Match; client keys get eventStreams' })
  @ApiQuery({ name: 'flagConfigEtag', required: false, description: 'The etag of the refetch event that triggered this request' })
  evaluateAll(@Req() req: AviaryRequest, @Res() res: ServerResponse, @Body() body: unknown, @Query('flagConfigEtag') flagConfigEtag?: unknown): Promise<void> {
    return this.ofrep.evaluateAll(req.apiKey!, body, req, res, flagConfigEtag);
  }

  @Get('sdk/v1/ofrep-stream')
  @ApiOperation({ summary: 'OFREP event stream (ADR-0008): a refetchEvaluation event on every change that can affect the key' })
  @ApiQuery({ name: 'clientKey', required: false, description: 'A client key (EventSource sends no headers)' })
  @ApiQuery({ name: 'lastEventId', required: false, description: 'Resume point when the Last-Event-ID header cannot be sent' })
  stream(@Req() req: AviaryRequest, @Res() res: ServerResponse, @Query('lastEventId') lastEventId?: unknown): Promise<void> {
    return this.ofrep.stream(req.apiKey!, req, res, lastEventId);
  }
}
