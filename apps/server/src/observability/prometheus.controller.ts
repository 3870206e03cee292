import { Controller, Get, Res } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { ServerResponse } from 'node:http';
import { Public } from '../common/auth.js';
import { ServerMetrics } from './server-metrics.js';

@ApiTags('health')
@Public()
@Controller('metrics')
export class PrometheusController {
  constructor(private readonly metrics: ServerMetrics) {}

  @Get()
  @ApiOperation({ summary: 'Prometheus metrics of this instance (no key needed: keep it off the public proxy)' })
  async scrape(@Res() res: ServerResponse): Promise<void> {
    res.setHeader('Content-Type', this.metrics.contentType);
    res.end(await this.metrics.render());
  }
}
