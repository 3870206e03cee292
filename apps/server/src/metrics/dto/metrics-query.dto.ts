import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, isISO8601, IsOptional, IsString, ValidateBy, type ValidationOptions } from 'class-validator';
import { METRIC_SOURCES, type MetricSource } from '../metric-source.js';

/** An instant as ISO-8601 or epoch milliseconds; undefined when it is neither. */
export function parseInstant(value: string): number | undefined {
  if (/^\d{1,15}$/.test(value)) return Number(value);
  if (!isISO8601(value, { strict: true })) return undefined;
  const ms = Date.parse(value);
  return Number.isFinite(ms) ? ms : undefined;
}

function IsInstant(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isInstant',
      validator: {
        validate: (v: unknown) => typeof v === 'string' && v.length <= 64 && parseInstant(v) !== undefined,
        defaultMessage: () => '$property must be an ISO-8601 instant or epoch milliseconds',
      },
    },
    options,
  );
}

export class MetricsQuery {
  @ApiPropertyOptional({ description: 'ISO-8601 instant or epoch ms, inclusive (default: an hour before `until`)' })
  @IsOptional()
  @IsString()
  @IsInstant()
  since?: string;

  @ApiPropertyOptional({ description: 'ISO-8601 instant or epoch ms, exclusive (default: now)' })
  @IsOptional()
  @IsString()
  @IsInstant()
  until?: string;

  @ApiPropertyOptional({ enum: METRIC_SOURCES, description: 'Only the reports of server keys, or of client keys (default: both)' })
  @IsOptional()
  @IsIn(METRIC_SOURCES)
  source?: MetricSource;
}

export class EventTotals {
  @ApiProperty() count!: number;
  @ApiProperty() sum!: number;
}

const EVENT_TOTALS_SCHEMA = { type: 'object' as const, properties: { count: { type: 'number' as const }, sum: { type: 'number' as const } }, required: ['count', 'sum'] };

export class MetricsPoint {
  @ApiProperty({ description: 'Start of the 10 s bucket' }) time!: string;
  @ApiProperty() exposures!: number;
  @ApiProperty({ type: 'object', additionalProperties: EVENT_TOTALS_SCHEMA, description: 'Per tracked event' })
  events!: Record<string, EventTotals>;
}

export class MetricsTotals {
  @ApiProperty() exposures!: number;
  @ApiProperty({ type: 'object', additionalProperties: EVENT_TOTALS_SCHEMA, description: 'Per tracked event' })
  events!: Record<string, EventTotals>;
}

export class MetricsArm {
  @ApiProperty() enabled!: boolean;
  @ApiProperty({ type: String, nullable: true }) variant!: string | null;
  @ApiProperty({ type: MetricsTotals, description: 'Sums over the whole range' }) totals!: MetricsTotals;
  @ApiProperty({ type: [MetricsPoint], description: 'Buckets with data, oldest first' }) points!: MetricsPoint[];
}

export class MetricsSeries {
  @ApiProperty() environment!: string;
  @ApiProperty() flag!: string;
  @ApiProperty({ example: 10 }) bucketSeconds!: number;
  @ApiProperty() since!: string;
  @ApiProperty() until!: string;
  @ApiProperty({ type: [MetricsArm] }) arms!: MetricsArm[];
}
