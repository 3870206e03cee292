import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsDateString, IsIn, IsOptional, IsString, MaxLength } from 'class-validator';
import { PageQuery } from '../../common/paging.js';

const RESOURCE_TYPES = ['environment', 'flag', 'flag-config', 'cohort', 'cohort-members', 'api-key', 'rollout-plan', 'person', 'webhook'];

export class AuditQuery extends PageQuery {
  @ApiPropertyOptional({ example: 'flag-config.kill' })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  action?: string;

  @ApiPropertyOptional({ enum: RESOURCE_TYPES })
  @IsOptional()
  @IsIn(RESOURCE_TYPES)
  resourceType?: string;

  @ApiPropertyOptional({ description: 'The key of the flag, cohort, environment, or the id of the API key' })
  @IsOptional()
  @IsString()
  @MaxLength(128)
  resource?: string;

  @ApiPropertyOptional({ example: 'production' })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  environment?: string;

  @ApiPropertyOptional({ description: 'An API key id or name' })
  @IsOptional()
  @IsString()
  @MaxLength(128)
  actor?: string;

  @ApiPropertyOptional({ description: "A person's id or email: the writes they made" })
  @IsOptional()
  @IsString()
  @MaxLength(254)
  person?: string;

  @ApiPropertyOptional({ description: 'ISO-8601 instant, inclusive' })
  @IsOptional()
  @IsDateString({ strict: true })
  since?: string;

  @ApiPropertyOptional({ description: 'ISO-8601 instant, exclusive' })
  @IsOptional()
  @IsDateString({ strict: true })
  until?: string;
}
