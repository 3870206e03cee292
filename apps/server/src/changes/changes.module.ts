import { Global, Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module.js';
import { StreamModule } from '../stream/stream.module.js';
import { ChangeLogService } from './change-log.service.js';

@Global()
@Module({
  imports: [AuditModule, StreamModule],
  providers: [ChangeLogService],
  exports: [ChangeLogService],
})
export class ChangesModule {}
