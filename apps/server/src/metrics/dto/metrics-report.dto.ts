import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsInt, IsOptional, IsString, Max, MaxLength, Min, MinLength } from 'class-validator';
import { IsFiniteNumber, IsOptionalArrayOf, IsResourceKey, NOT_EMPTY } from '../../common/validation.js';

/** Rows one report may carry per list: above the Node SDK's default caps (5,000 each). */
export const MAX_REPORT_ROWS = 10_000;
/** Largest count one row may add. */
export const MAX_COUNT = 1e12;
/** Largest count one row may add with a client key. Client keys are public, so one report from
 *  anyone must not be able to outweigh a canary's real traffic; a page reports every 10 s. */
export const MAX_CLIENT_COUNT = 100_000;
/** Largest magnitude of one row's sum: bucket totals are doubles that add up report after report,
 *  and Postgres refuses (500) a sum that overflows. */
export const MAX_SUM = 1e15;
/** Largest sum of squares of one row: MAX_SUM's square, as far from a double's overflow. */
export const MAX_SUM_SQUARES = 1e30;
/** 9999-12-31: epoch milliseconds beyond this are not instants anyone means. */
const MAX_EPOCH_MS = 253_402_300_799_999;

export class ExposureCountDto {
  @IsResourceKey({ example: 'new-checkout' })
  flag!: string;

  @ApiProperty({ description: 'The arm: whether the flag evaluated on' })
  @IsBoolean()
  enabled!: boolean;

  @ApiPropertyOptional({ type: String, nullable: true, maxLength: 64, description: 'null when the arm has no variant' })
  @IsOptional()
  @IsString()
  @MinLength(1, NOT_EMPTY)
  @MaxLength(64)
  variant?: string | null;

  @ApiProperty({ minimum: 0, maximum: MAX_COUNT })
  @IsInt()
  @Min(0)
  @Max(MAX_COUNT)
  count!: number;
}

export class EventCountDto extends ExposureCountDto {
  @ApiProperty({ example: 'error', maxLength: 128 })
  @IsString()
  @MinLength(1, NOT_EMPTY)
  @MaxLength(128)
  event!: string;

  @ApiPropertyOptional({ description: 'The sum of the tracked values', default: 0, minimum: -MAX_SUM, maximum: MAX_SUM })
  @IsOptional()
  @IsFiniteNumber()
  @Min(-MAX_SUM)
  @Max(MAX_SUM)
  sum?: number;

  @ApiPropertyOptional({ description: 'The sum of the tracked values\' squares (mean guards test means with count, sum and this)', default: 0, minimum: 0, maximum: MAX_SUM_SQUARES })
  @IsOptional()
  @IsFiniteNumber()
  @Min(0)
  @Max(MAX_SUM_SQUARES)
  sumSquares?: number;
}

/** `POST /sdk/v1/metrics` (docs/protocol.md): counts since the SDK's last report, per flag arm. */
export class MetricsReportDto {
  @ApiProperty({ description: 'Window start, epoch milliseconds', example: 1764172800000 })
  @IsInt()
  @Min(0)
  @Max(MAX_EPOCH_MS)
  start!: number;

  @ApiProperty({ description: 'Window end, epoch milliseconds; the counts go to its 10 s bucket', example: 1764172810000 })
  @IsInt()
  @Min(0)
  @Max(MAX_EPOCH_MS)
  end!: number;

  @IsOptionalArrayOf(ExposureCountDto, MAX_REPORT_ROWS)
  exposures?: ExposureCountDto[];

  @IsOptionalArrayOf(EventCountDto, MAX_REPORT_ROWS)
  events?: EventCountDto[];
}
