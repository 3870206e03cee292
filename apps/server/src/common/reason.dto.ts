import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, MaxLength } from 'class-validator';

/** Every write takes an optional `reason`, kept in the audit log. */
export class ReasonDto {
  @ApiPropertyOptional({ maxLength: 1000, example: 'error rate up after deploy 2024.11.3' })
  @IsOptional()
  @IsString()
  @MaxLength(1000)
  reason?: string;
}
