import { Controller, Get } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { Public } from '../common/auth.js';
import { ReadinessService } from './readiness.service.js';

@ApiTags('health')
@Public()
@Controller()
export class HealthController {
  constructor(private readonly readiness: ReadinessService) {}

  @Get('healthz')
  @ApiOperation({ summary: 'Liveness: the process answers (no key needed)' })
  healthz() {
    return this.readiness.alive();
  }

  @Get('readyz')
  @ApiOperation({ summary: 'Readiness: Postgres reachable and not shutting down, else 503; a Redis outage is reported as degraded (no key needed)' })
  readyz() {
    return this.readiness.ready();
  }

  @Get('health')
  @ApiOperation({ summary: 'Alias of /readyz' })
  health() {
    return this.readiness.ready();
  }
}
