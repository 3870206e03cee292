import { Inject, Injectable, Logger, ServiceUnavailableException } from '@nestjs/common';
import { type HealthCheckResult, HealthCheckService, HealthIndicatorService, TypeOrmHealthIndicator } from '@nestjs/terminus';
import { CHANGE_BUS, type ChangeBus, RedisChangeBus } from '../stream/change-bus.js';
import { ShutdownState } from './shutdown-state.js';

const CHECK_TIMEOUT_MS = 2000;

/**
 * Liveness (the process answers) and readiness (Postgres reachable, not draining). Redis is
 * reported but does not make an instance unready: without it updates still arrive through the
 * revision check, a little later, and taking every instance out of the balancer over a Redis
 * blip would turn a delay into an outage.
 */
@Injectable()
export class ReadinessService {
  private readonly logger = new Logger('Readiness');
  private lastProblem?: string;

  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly database: TypeOrmHealthIndicator,
    private readonly shutdown: ShutdownState,
    @Inject(CHANGE_BUS) private readonly bus: ChangeBus,
  ) {}

  alive(): Promise<HealthCheckResult> {
    return this.health.check([() => this.indicators.check('process').up({ uptimeSeconds: Math.round(process.uptime()) })]);
  }

  /** Answers the checks, or throws a 503 naming what is not ready. */
  async ready(): Promise<HealthCheckResult & { degraded?: string }> {
    if (this.shutdown.draining) {
      throw new ServiceUnavailableException({ message: 'Not ready: this instance is shutting down', errors: { shutdown: { status: 'down' } } });
    }
    const result = await this.health
      .check([() => this.database.pingCheck('postgres').withTimeout(CHECK_TIMEOUT_MS), () => this.redis()])
      .catch((e: { response?: HealthCheckResult }) => {
        if (e.response?.details === undefined) throw e;
        return e.response;
      });
    const down = Object.entries(result.details).filter(([, detail]) => detail.status === 'down');
    const problem = down.map(([name, detail]) => `${name} is unreachable${detail.message ? ` (${String(detail.message)})` : ''}`).join('; ');
    const fatal = down.filter(([name]) => name !== 'redis');
    if (problem !== (this.lastProblem ?? '')) {
      if (problem) this.logger.warn(`not ready: ${problem}`);
      else this.logger.log('ready again');
      this.lastProblem = problem || undefined;
    }
    if (fatal.length > 0) throw new ServiceUnavailableException({ message: `Not ready: ${problem}`, errors: result.details });
    // Degraded: serving, with updates delayed to the revision check.
    return down.length > 0 ? { ...result, status: 'ok', degraded: problem } : result;
  }

  private async redis() {
    const redis = this.indicators.check('redis');
    if (!(this.bus instanceof RedisChangeBus)) return redis.up({ mode: 'in-process' });
    const bus = this.bus;
    const ok = await Promise.race([bus.ping(), new Promise<boolean>((resolve) => setTimeout(resolve, CHECK_TIMEOUT_MS, false).unref())]);
    return ok ? redis.up() : redis.down({ message: 'no answer to PING' });
  }
}
