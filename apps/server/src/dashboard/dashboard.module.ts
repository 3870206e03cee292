import { Module } from '@nestjs/common';
import { StreamModule } from '../stream/stream.module.js';
import { DashboardController } from './dashboard.controller.js';
import { FlagListService } from './flag-list.service.js';
import { LiveEventsService } from './live-events.service.js';

/** What the web dashboard (apps/dashboard) reads beyond the admin API: the flag list of one
 *  environment and a live stream for sessions. The static files are served by `dashboard-static`. */
@Module({ imports: [StreamModule], controllers: [DashboardController], providers: [FlagListService, LiveEventsService] })
export class DashboardModule {}
