import { Injectable, NotFoundException } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import type { AuthenticatedKey } from '../common/actor.js';
import { ValidationFailedException } from '../common/validation-failed.exception.js';
import { sql } from '../database/sql.js';
import type { EventTotals, MetricsArm, MetricsQuery, MetricsSeries } from './dto/metrics-query.dto.js';
import { parseInstant } from './dto/metrics-query.dto.js';
import { MAX_CLIENT_COUNT, type MetricsReportDto } from './dto/metrics-report.dto.js';
import type { ArmMoments } from '@aviary/guard';
import { METRIC_SOURCES, type MetricSource } from './metric-source.js';

export const BUCKET_MS = 10_000;
/** A report whose `end` is older than this (or in the future) is counted at the server's clock. */
const MAX_REPORT_AGE_MS = 10 * 60_000;
const DEFAULT_RANGE_MS = 60 * 60_000;
const MAX_RANGE_MS = 7 * 24 * 60 * 60_000;

/** The start of the 10 s bucket holding `ms`. */
export function bucketOf(ms: number): number {
  return Math.floor(ms / BUCKET_MS) * BUCKET_MS;
}

/** Counts of one arm (`enabled` true: the exposed arm, false: control) for a guard. */
export interface ArmEventCounts {
  numerator: number;
  denominator: number;
}

/** SDK metrics in 10 s buckets: reports add to their bucket's counts; guards and the series API
 *  read them back. */
@Injectable()
export class MetricsService {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Adds a report to the bucket of its `end` in the key's environment. Rows for flags that do
   *  not exist (or, for client keys, are not client-visible) are dropped. */
  async record(key: AuthenticatedKey, report: MetricsReportDto, now = Date.now()): Promise<void> {
    if (!key.environmentId) return;
    const source: MetricSource = key.kind === 'client' ? 'client' : 'server';
    if (source === 'client') refuseLargeCounts(report);
    const bucket = new Date(bucketOf(report.end <= now && report.end >= now - MAX_REPORT_AGE_MS ? report.end : now));
    const exposures = aggregate(report.exposures ?? [], (r) => [r.flag, r.enabled, r.variant ?? ''], (r) => ({ count: r.count, sum: 0, sumSquares: 0 }));
    const events = aggregate(
      report.events ?? [],
      (r) => [r.flag, r.enabled, r.variant ?? '', r.event],
      (r) => ({ count: r.count, sum: r.sum ?? 0, sumSquares: r.sumSquares ?? 0 }),
    );
    if (exposures.length === 0 && events.length === 0) return;
    const visible = key.kind === 'client' ? 'AND f.client_visible' : '';
    // Rows arrive sorted, so concurrent reports lock the same buckets in the same order.
    await this.dataSource.transaction('READ COMMITTED', async (manager) => {
      if (exposures.length > 0) {
        await sql(
          manager,
          `INSERT INTO metric_exposures (environment_id, flag_id, bucket, enabled, variant, count, source)
           SELECT $1, f.id, $2, x.enabled, x.variant, x.count, $7
             FROM unnest($3::text[], $4::boolean[], $5::text[], $6::bigint[]) WITH ORDINALITY AS x(flag, enabled, variant, count, n)
             JOIN flags f ON f.key = x.flag AND f.archived_at IS NULL ${visible}
            ORDER BY x.n
           ON CONFLICT (environment_id, flag_id, bucket, enabled, variant, source)
           DO UPDATE SET count = metric_exposures.count + EXCLUDED.count`,
          [key.environmentId, bucket, ...columns(exposures, 3), exposures.map((r) => r.count), source],
        );
      }
      if (events.length > 0) {
        await sql(
          manager,
          `INSERT INTO metric_events (environment_id, flag_id, event, bucket, enabled, variant, count, sum, source, sum_squares)
           SELECT $1, f.id, x.event, $2, x.enabled, x.variant, x.count, x.sum, $9, x.sum_squares
             FROM unnest($3::text[], $4::boolean[], $5::text[], $6::text[], $7::bigint[], $8::double precision[], $10::double precision[])
                  WITH ORDINALITY AS x(flag, enabled, variant, event, count, sum, sum_squares, n)
             JOIN flags f ON f.key = x.flag AND f.archived_at IS NULL ${visible}
            ORDER BY x.n
           ON CONFLICT (environment_id, flag_id, event, bucket, enabled, variant, source)
           DO UPDATE SET count = metric_events.count + EXCLUDED.count, sum = metric_events.sum + EXCLUDED.sum,
                         sum_squares = metric_events.sum_squares + EXCLUDED.sum_squares`,
          [key.environmentId, bucket, ...columns(events, 4), events.map((r) => r.count), events.map((r) => r.sum), source, events.map((r) => r.sumSquares)],
        );
      }
    });
  }

  /** `GET /api/v1/environments/:env/flags/:key/metrics`: every arm's buckets in the range. */
  async series(environmentKey: string, flagKey: string, query: MetricsQuery, now = Date.now()): Promise<MetricsSeries> {
    const until = query.until === undefined ? now : parseInstant(query.until)!;
    const since = query.since === undefined ? until - DEFAULT_RANGE_MS : parseInstant(query.since)!;
    if (since >= until) throw new ValidationFailedException([{ path: 'since', message: 'must be before until' }]);
    if (until - since > MAX_RANGE_MS) throw new ValidationFailedException([{ path: 'since', message: 'the range may span at most 7 days' }]);
    const manager = this.dataSource.manager;
    const [target] = await sql<{ environment_id: string | null; flag_id: string | null }>(
      manager,
      `SELECT (SELECT id FROM environments WHERE key = $1) AS environment_id,
              (SELECT id FROM flags WHERE key = $2 AND archived_at IS NULL) AS flag_id`,
      [environmentKey, flagKey],
    );
    if (!target.environment_id) throw new NotFoundException(`No environment "${environmentKey}"`);
    if (!target.flag_id) throw new NotFoundException(`No flag "${flagKey}"`);
    const sources = query.source === undefined ? METRIC_SOURCES : [query.source];
    const range = [target.environment_id, target.flag_id, new Date(bucketOf(since)), new Date(until), sources];
    const rows = await sql<{ bucket: Date; enabled: boolean; variant: string; event: string | null; count: string; sum: number }>(
      manager,
      `SELECT bucket, enabled, variant, NULL AS event, count, 0 AS sum FROM metric_exposures
        WHERE environment_id = $1 AND flag_id = $2 AND bucket >= $3 AND bucket < $4 AND source = ANY($5)
       UNION ALL
       SELECT bucket, enabled, variant, event, count, sum FROM metric_events
        WHERE environment_id = $1 AND flag_id = $2 AND bucket >= $3 AND bucket < $4 AND source = ANY($5)
       ORDER BY bucket`,
      range,
    );
    const arms = new Map<string, MetricsArm & { byTime: Map<number, MetricsArm['points'][number]> }>();
    for (const row of rows) {
      const id = `${row.enabled}:${row.variant}`;
      let arm = arms.get(id);
      if (!arm) {
        arm = { enabled: row.enabled, variant: row.variant || null, totals: { exposures: 0, events: {} }, points: [], byTime: new Map() };
        arms.set(id, arm);
      }
      const time = row.bucket.getTime();
      let point = arm.byTime.get(time);
      if (!point) {
        point = { time: row.bucket.toISOString(), exposures: 0, events: {} };
        arm.byTime.set(time, point);
        arm.points.push(point);
      }
      const count = Number(row.count);
      if (row.event === null) {
        point.exposures += count;
        arm.totals.exposures += count;
      } else {
        addEvent(point.events, row.event, count, row.sum);
        addEvent(arm.totals.events, row.event, count, row.sum);
      }
    }
    return {
      environment: environmentKey,
      flag: flagKey,
      bucketSeconds: BUCKET_MS / 1000,
      since: new Date(since).toISOString(),
      until: new Date(until).toISOString(),
      arms: [...arms.values()]
        .sort((a, b) => Number(b.enabled) - Number(a.enabled) || (a.variant ?? '').localeCompare(b.variant ?? ''))
        .map(({ byTime: _, ...arm }) => arm),
    };
  }

  /** A guard's counts per arm since `since`: exposed (the flag on) and control (off), summed over
   *  variants. Runs on the caller's manager, so it works inside a transaction. */
  async guardCounts(
    manager: EntityManager,
    environmentId: string,
    flagId: string,
    events: { numerator: string; denominator: string },
    since: Date,
    sources: readonly MetricSource[] = METRIC_SOURCES,
  ): Promise<{ exposed: ArmEventCounts; control: ArmEventCounts }> {
    const rows = await sql<{ enabled: boolean; numerator: string; denominator: string }>(
      manager,
      `SELECT enabled,
              COALESCE(sum(count) FILTER (WHERE event = $3), 0) AS numerator,
              COALESCE(sum(count) FILTER (WHERE event = $4), 0) AS denominator
         FROM metric_events
        WHERE environment_id = $1 AND flag_id = $2 AND event IN ($3, $4) AND bucket >= $5 AND source = ANY($6)
        GROUP BY enabled`,
      [environmentId, flagId, events.numerator, events.denominator, new Date(bucketOf(since.getTime())), sources],
    );
    const arm = (enabled: boolean): ArmEventCounts => {
      const row = rows.find((r) => r.enabled === enabled);
      return { numerator: Number(row?.numerator ?? 0), denominator: Number(row?.denominator ?? 0) };
    };
    return { exposed: arm(true), control: arm(false) };
  }

  /** A mean guard's moments per arm since `since`: the count, sum and sum of squares of `metric`'s values. */
  async metricMoments(
    manager: EntityManager,
    environmentId: string,
    flagId: string,
    metric: string,
    since: Date,
    sources: readonly MetricSource[] = METRIC_SOURCES,
  ): Promise<{ exposed: ArmMoments; control: ArmMoments }> {
    const rows = await sql<{ enabled: boolean; count: string; sum: number; sum_squares: number }>(
      manager,
      `SELECT enabled, sum(count) AS count, sum(sum) AS sum, sum(sum_squares) AS sum_squares
         FROM metric_events
        WHERE environment_id = $1 AND flag_id = $2 AND event = $3 AND bucket >= $4 AND source = ANY($5)
        GROUP BY enabled`,
      [environmentId, flagId, metric, new Date(bucketOf(since.getTime())), sources],
    );
    const arm = (enabled: boolean): ArmMoments => {
      const row = rows.find((r) => r.enabled === enabled);
      return { count: Number(row?.count ?? 0), sum: Number(row?.sum ?? 0), sumSquares: Number(row?.sum_squares ?? 0) };
    };
    return { exposed: arm(true), control: arm(false) };
  }

  /** Exposures per arm in buckets starting at or after `since` (bucket-aligned by the caller). */
  async exposureCounts(
    manager: EntityManager,
    environmentId: string,
    flagId: string,
    since: Date,
    sources: readonly MetricSource[] = METRIC_SOURCES,
  ): Promise<{ exposed: number; control: number }> {
    const rows = await sql<{ enabled: boolean; count: string }>(
      manager,
      `SELECT enabled, sum(count) AS count FROM metric_exposures
        WHERE environment_id = $1 AND flag_id = $2 AND bucket >= $3 AND source = ANY($4) GROUP BY enabled`,
      [environmentId, flagId, since, sources],
    );
    const of = (enabled: boolean) => Number(rows.find((r) => r.enabled === enabled)?.count ?? 0);
    return { exposed: of(true), control: of(false) };
  }

  /** Events named `event` in both arms in buckets starting at or after `since`. */
  async eventCount(
    manager: EntityManager,
    environmentId: string,
    flagId: string,
    event: string,
    since: Date,
    sources: readonly MetricSource[] = METRIC_SOURCES,
  ): Promise<number> {
    const [row] = await sql<{ count: string | null }>(
      manager,
      'SELECT sum(count) AS count FROM metric_events WHERE environment_id = $1 AND flag_id = $2 AND event = $3 AND bucket >= $4 AND source = ANY($5)',
      [environmentId, flagId, event, since, sources],
    );
    return Number(row?.count ?? 0);
  }
}

/** A client key is public: one report may add at most MAX_CLIENT_COUNT per row (400 otherwise). */
function refuseLargeCounts(report: MetricsReportDto): void {
  const errors = [
    ...(report.exposures ?? []).map((r, i) => ({ path: `exposures[${i}].count`, count: r.count })),
    ...(report.events ?? []).map((r, i) => ({ path: `events[${i}].count`, count: r.count })),
  ]
    .filter((r) => r.count > MAX_CLIENT_COUNT)
    .map(({ path }) => ({ path, message: `must not be greater than ${MAX_CLIENT_COUNT} with a client key` }));
  if (errors.length > 0) throw new ValidationFailedException(errors);
}

function addEvent(into: Record<string, EventTotals>, event: string, count: number, sum: number): void {
  const totals = (into[event] ??= { count: 0, sum: 0 });
  totals.count += count;
  totals.sum += sum;
}

interface Aggregated {
  key: Array<string | boolean>;
  count: number;
  sum: number;
  sumSquares: number;
}

/** Sums rows that name the same arm (one upsert must not touch a row twice), sorted by arm. */
function aggregate<T>(rows: T[], keyOf: (row: T) => Array<string | boolean>, valueOf: (row: T) => Omit<Aggregated, 'key'>): Aggregated[] {
  const byKey = new Map<string, Aggregated>();
  for (const row of rows) {
    const key = keyOf(row);
    const id = JSON.stringify(key);
    const value = valueOf(row);
    const held = byKey.get(id);
    if (held) {
      held.count += value.count;
      held.sum += value.sum;
      held.sumSquares += value.sumSquares;
    } else byKey.set(id, { key, ...value });
  }
  return [...byKey.entries()]
    .filter(([, row]) => row.count > 0 || row.sum !== 0)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, row]) => row);
}

/** The key columns of aggregated rows, one array each, for `unnest`. */
function columns(rows: Aggregated[], width: number): unknown[][] {
  return Array.from({ length: width }, (_, i) => rows.map((r) => r.key[i]));
}
