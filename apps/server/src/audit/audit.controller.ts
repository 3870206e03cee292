import { Controller, Get, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AuditPageView } from './dto/audit-event.view.js';
import { AuditService } from './audit.service.js';
import { AuditQuery } from './dto/audit-query.dto.js';

@ApiTags('audit')
@ApiBearerAuth()
@Controller('api/v1/audit')
export class AuditController {
  constructor(private readonly audit: AuditService) {}

  @Get()
  @ApiOperation({ summary: 'Who changed what, when and why; newest first, filtered, paged by cursor' })
  @ApiOkResponse({ type: AuditPageView })
  list(@Query() query: AuditQuery) {
    return this.audit.list(query);
  }
}
