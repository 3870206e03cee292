import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module.js';
import { WebhookWorker } from './webhook-worker.js';
import { WebhooksController } from './webhooks.controller.js';
import { WebhooksService } from './webhooks.service.js';

@Module({ imports: [AuditModule], controllers: [WebhooksController], providers: [WebhooksService, WebhookWorker] })
export class WebhooksModule {}
