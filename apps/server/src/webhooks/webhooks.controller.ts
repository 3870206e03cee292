import { Body, Controller, Delete, Get, HttpCode, Param, ParseUUIDPipe, Patch, Post } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { type Actor, CurrentActor } from '../common/actor.js';
import { ReasonDto } from '../common/reason.dto.js';
import { CreatedWebhookView, CreateWebhookDto, RotatedSecretView, UpdateWebhookDto, WebhookDeliveryView, WebhookTestView, WebhookView } from './dto/webhook.dto.js';
import { WebhooksService } from './webhooks.service.js';

const Id = () => Param('id', new ParseUUIDPipe({ version: undefined }));

@ApiTags('webhooks')
@ApiBearerAuth()
@Controller('api/v1/webhooks')
export class WebhooksController {
  constructor(private readonly webhooks: WebhooksService) {}

  @Get()
  @ApiOperation({ summary: 'List subscriptions (never their secrets)' })
  @ApiOkResponse({ type: [WebhookView] })
  list() {
    return this.webhooks.list();
  }

  @Post()
  @ApiOperation({ summary: 'Subscribe a URL to events; the signing secret is in this response only' })
  @ApiCreatedResponse({ type: CreatedWebhookView })
  create(@CurrentActor() actor: Actor, @Body() dto: CreateWebhookDto) {
    return this.webhooks.create(actor, dto);
  }

  @Get(':id')
  @ApiOkResponse({ type: WebhookView })
  get(@Id() id: string) {
    return this.webhooks.get(id);
  }

  @Patch(':id')
  @ApiOperation({ summary: 'Change a subscription; enabled: true re-enables one disabled after failures' })
  @ApiOkResponse({ type: WebhookView })
  update(@CurrentActor() actor: Actor, @Id() id: string, @Body() dto: UpdateWebhookDto) {
    return this.webhooks.update(actor, id, dto);
  }

  @Delete(':id')
  @HttpCode(204)
  remove(@CurrentActor() actor: Actor, @Id() id: string, @Body() dto: ReasonDto) {
    return this.webhooks.remove(actor, id, dto.reason);
  }

  @Post(':id/rotate-secret')
  @HttpCode(200)
  @ApiOperation({ summary: 'A new signing secret, in this response only; the previous one also signs for 24 h' })
  @ApiOkResponse({ type: RotatedSecretView })
  rotateSecret(@CurrentActor() actor: Actor, @Id() id: string, @Body() dto: ReasonDto) {
    return this.webhooks.rotateSecret(actor, id, dto.reason);
  }

  @Get(':id/deliveries')
  @ApiOperation({ summary: 'The newest 100 deliveries: attempts, status, latency, the first 1 KB of the answer, next retry' })
  @ApiOkResponse({ type: [WebhookDeliveryView] })
  deliveries(@Id() id: string) {
    return this.webhooks.deliveries(id);
  }

  @Post(':id/deliveries/:deliveryId/redeliver')
  @HttpCode(202)
  redeliver(@Id() id: string, @Param('deliveryId', new ParseUUIDPipe({ version: undefined })) deliveryId: string) {
    return this.webhooks.redeliver(id, deliveryId);
  }

  @Post(':id/test')
  @HttpCode(202)
  @ApiOperation({ summary: 'Send a webhook.test event to this subscription only' })
  @ApiAcceptedResponse({ type: WebhookTestView })
  test(@CurrentActor() actor: Actor, @Id() id: string) {
    return this.webhooks.test(actor, id);
  }
}
