import { Body, Controller, Delete, Get, HttpCode, Param, ParseUUIDPipe, Patch, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { type Actor, CurrentActor } from '../common/actor.js';
import { ReasonDto } from '../common/reason.dto.js';
import { ApiKeysService } from './api-keys.service.js';
import { ApiKeyListQuery, ApiKeyPageView, ApiKeyView, CreateApiKeyDto, CreatedApiKeyView, UpdateApiKeyDto } from './dto/api-key.dto.js';

@ApiTags('api keys')
@ApiBearerAuth()
@Controller('api/v1/api-keys')
export class ApiKeysController {
  constructor(private readonly apiKeys: ApiKeysService) {}

  @Get()
  @ApiOkResponse({ type: ApiKeyPageView })
  @ApiOperation({ summary: 'List keys (never their secrets)' })
  list(@Query() query: ApiKeyListQuery) {
    return this.apiKeys.list(query);
  }

  @Post()
  @ApiCreatedResponse({ type: CreatedApiKeyView })
  @ApiOperation({ summary: 'Create a key; the secret is in this response only' })
  create(@CurrentActor() actor: Actor, @Body() dto: CreateApiKeyDto) {
    return this.apiKeys.create(actor, dto);
  }

  @Patch(':id')
  @ApiOkResponse({ type: ApiKeyView })
  @ApiOperation({ summary: "Change a client key's own CORS origins (allowedOrigins; null: the server-wide ones)" })
  update(@CurrentActor() actor: Actor, @Param('id', new ParseUUIDPipe({ version: undefined })) id: string, @Body() dto: UpdateApiKeyDto) {
    return this.apiKeys.update(actor, id, dto);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Revoke a key' })
  revoke(@CurrentActor() actor: Actor, @Param('id', new ParseUUIDPipe({ version: undefined })) id: string, @Body() dto: ReasonDto) {
    return this.apiKeys.revoke(actor, id, dto.reason);
  }
}
