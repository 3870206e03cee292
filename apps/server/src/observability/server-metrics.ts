import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** What a rollout plan did at a step (label `action` of `aviary_rollout_steps_total`). */
export type RolloutStepAction = 'started' | 'advanced' | 'awaiting-approval' | 'completed' | 'paused' | 'rolled-back';

/** Live values read at each scrape, owned by other parts of the server. */
export interface MetricSources {
  openStreams?: () => number;
  revisionLag?: () => number;
  redisErrors?: () => number;
  redisUp?: () => boolean | undefined;
  draining?: () => boolean;
}

/**
 * The Prometheus metrics of one server instance (`GET /metrics`). Inject it anywhere (its module
 * is global) and count with the prom-client objects below, e.g.
 * `metrics.rolloutSteps.inc({ environment: 'production', action: 'advanced' })`. To add a metric
 * of your own, create it with `registers: [metrics.registry]`.
 */
@Injectable()
export class ServerMetrics {
  /** This instance's registry (not prom-client's global one, so test apps in one process do not clash). */
  readonly registry = new Registry();
  private sources: MetricSources = {};

  readonly httpDuration = new Histogram<'method' | 'route' | 'status'>({
    name: 'aviary_http_request_duration_seconds',
    help: 'HTTP request latency by route pattern (SSE streams excluded: see aviary_streams_open)',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  readonly kills = new Counter<'environment'>({
    name: 'aviary_kills_total',
    help: 'Kill-switch writes committed by this instance',
    labelNames: ['environment'],
    registers: [this.registry],
  });

  readonly changes = new Counter<'environment' | 'kind'>({
    name: 'aviary_changes_total',
    help: 'Revisions committed by this instance, by kind (change, kill, ruleset)',
    labelNames: ['environment', 'kind'],
    registers: [this.registry],
  });

  /** Count one executed step of a rollout plan: `rolloutSteps.inc({ environment, action })`. */
  readonly rolloutSteps = new Counter<'environment' | 'action'>({
    name: 'aviary_rollout_steps_total',
    help: 'Rollout plan steps executed by this instance, by action (started, advanced, awaiting-approval, completed, paused, rolled-back)',
    labelNames: ['environment', 'action'],
    registers: [this.registry],
  });

  readonly postgresErrors = new Counter<'operation'>({
    name: 'aviary_postgres_errors_total',
    help: 'Failed Postgres operations (operation: connect or query; constraint violations answered as 409 are not counted)',
    labelNames: ['operation'],
    registers: [this.registry],
  });

  readonly rateLimited = new Counter<'limit'>({
    name: 'aviary_rate_limited_total',
    help: 'Requests refused with 429, by limit (admin, sdk-metrics, auth-failures)',
    labelNames: ['limit'],
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    const sources = () => this.sources;
    let countedRedisErrors = 0;
    new Gauge({
      name: 'aviary_streams_open',
      help: 'SSE streams open on this instance',
      registers: [this.registry],
      collect() {
        this.set(sources().openStreams?.() ?? 0);
      },
    });
    new Gauge({
      name: 'aviary_revision_lag',
      help: 'Revisions this instance was behind Postgres at its last revision check (0 when fan-out works)',
      registers: [this.registry],
      collect() {
        this.set(sources().revisionLag?.() ?? 0);
      },
    });
    new Counter({
      name: 'aviary_redis_errors_total',
      help: 'Errors on the Redis connections of the change fan-out',
      registers: [this.registry],
      collect() {
        const total = sources().redisErrors?.() ?? 0;
        if (total > countedRedisErrors) this.inc(total - countedRedisErrors);
        countedRedisErrors = Math.max(total, countedRedisErrors);
      },
    });
    new Gauge({
      name: 'aviary_redis_up',
      help: '1 when the Redis fan-out is connected, 0 when it is not (absent without REDIS_URL)',
      registers: [this.registry],
      collect() {
        const up = sources().redisUp?.();
        if (up === undefined) this.reset();
        else this.set(up ? 1 : 0);
      },
    });
    new Gauge({
      name: 'aviary_draining',
      help: '1 once this instance has received SIGTERM and is shutting down',
      registers: [this.registry],
      collect() {
        this.set(sources().draining?.() ? 1 : 0);
      },
    });
  }

  /** Connects the scrape-time values to their owners. */
  attach(sources: MetricSources): void {
    this.sources = { ...this.sources, ...sources };
  }

  /** The exposition text for `GET /metrics`. */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
