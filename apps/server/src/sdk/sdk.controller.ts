import { Controller, Get, Query, Req, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { ServerResponse } from 'node:http';
import type { AviaryRequest } from '../common/actor.js';
import { AllowKeys } from '../common/auth.js';
import { ValidationFailedException } from '../common/validation-failed.exception.js';
import { SdkService } from './sdk.service.js';

@ApiTags('sdk')
@ApiBearerAuth()
@AllowKeys('server', 'client')
@Controller('sdk/v1')
export class SdkController {
  constructor(private readonly sdk: SdkService) {}

  @Get('ruleset')
  @ApiOperation({ summary: 'The environment\'s ruleset (a client key: that user\'s client ruleset); ETag is the revision' })
  @ApiQuery({ name: 'key', required: false, description: 'Client keys: the user\'s context key' })
  ruleset(@Req() req: AviaryRequest, @Res() res: ServerResponse, @Query('key') userKey?: string): Promise<void> {
    return this.sdk.ruleset({ key: req.apiKey!, userKey: asKey(userKey) }, req, res);
  }

  @Get('stream')
  @ApiOperation({ summary: 'Server-sent events: ruleset, change and kill, each with the revision as id' })
  @ApiQuery({ name: 'key', required: false, description: 'Client keys: the user\'s context key' })
  @ApiQuery({ name: 'lastEventId', required: false, description: 'Resume point when the Last-Event-ID header cannot be sent' })
  @ApiQuery({ name: 'protocol', required: false, description: 'The SDK protocol the client speaks: 2 understands membership deltas (docs/protocol.md); default 1' })
  stream(
    @Req() req: AviaryRequest,
    @Res() res: ServerResponse,
    @Query('key') userKey?: string,
    @Query('lastEventId') lastEventId?: string,
    @Query('protocol') protocol?: unknown,
  ): Promise<void> {
    return this.sdk.stream({ key: req.apiKey!, userKey: asKey(userKey), protocol: protocolOf(protocol) }, req, res, lastEventId);
  }
}

/** The newest SDK protocol this server speaks: a client announcing a newer one gets this one. */
const SDK_PROTOCOL = 2;

/** `?protocol=`: absent is 1; a whole number from 1 up, capped at what this server speaks. */
function protocolOf(value: unknown): number {
  if (value === undefined) return 1;
  if (typeof value !== 'string' || !/^[1-9]\d{0,8}$/.test(value)) {
    throw new ValidationFailedException([{ path: 'protocol', message: 'must be a whole number from 1 (the SDK protocol version)' }]);
  }
  return Math.min(Number(value), SDK_PROTOCOL);
}

/** A repeated `?key=` arrives as an array: only a single string names a user. */
function asKey(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 && value.length <= 512 ? value : undefined;
}
