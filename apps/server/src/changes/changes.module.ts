import { Global, Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module.js';
import { ChangeLogService } from './change-log.service.js';
import { CHANGE_PUBLISHER, InProcessChangePublisher } from './change-publisher.js';

@Global()
@Module({
  imports: [AuditModule],
  providers: [
    ChangeLogService,
    InProcessChangePublisher,
    { provide: CHANGE_PUBLISHER, useExisting: InProcessChangePublisher },
  ],
  exports: [ChangeLogService, CHANGE_PUBLISHER, InProcessChangePublisher],
})
export class ChangesModule {}
