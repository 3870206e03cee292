import { Body, Controller, Get, HttpCode, Param, Post, Query, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { AviaryRequest } from '../common/actor.js';
import { AllowKeys } from '../common/auth.js';
import { MetricsQuery, MetricsSeries } from './dto/metrics-query.dto.js';
import { MetricsReportDto } from './dto/metrics-report.dto.js';
import { MetricsService } from './metrics.service.js';

@ApiTags('sdk')
@ApiBearerAuth()
@AllowKeys('server', 'client')
@Controller('sdk/v1/metrics')
export class SdkMetricsController {
  constructor(private readonly metrics: MetricsService) {}

  @Post()
  @HttpCode(202)
  @ApiQuery({ name: 'clientKey', required: false, description: 'A client key, when the request cannot carry the Authorization header' })
  @ApiOperation({ summary: "Report exposures and tracked events per flag arm; counted in the key's environment" })
  report(@Req() req: AviaryRequest, @Body() dto: MetricsReportDto): Promise<void> {
    return this.metrics.record(req.apiKey!, dto);
  }
}

@ApiTags('metrics')
@ApiBearerAuth()
@Controller('api/v1/environments/:env/flags/:key/metrics')
export class FlagMetricsController {
  constructor(private readonly metrics: MetricsService) {}

  @Get()
  @ApiOperation({ summary: "A flag's per-arm series of exposures and tracked events, in 10 s buckets" })
  @ApiOkResponse({ type: MetricsSeries })
  series(@Param('env') env: string, @Param('key') key: string, @Query() query: MetricsQuery) {
    return this.metrics.series(env, key, query);
  }
}
