import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsObject, IsOptional, IsString, MaxLength, ValidateBy } from 'class-validator';

const MAX_ATTRIBUTES = 100;

function isContext(value: unknown): boolean {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const entries = Object.entries(value);
  return (
    entries.length <= MAX_ATTRIBUTES &&
    entries.every(
      ([k, v]) =>
        k.length <= 256 &&
        (v === null || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v)) || (typeof v === 'string' && v.length <= 4096)),
    )
  );
}

export class EvaluateDto {
  @ApiPropertyOptional({ description: 'One flag; omit for all flags of the environment', example: 'new-checkout' })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  flag?: string;

  @ApiProperty({ type: 'object', additionalProperties: true, example: { key: 'user-42', country: 'NL' } })
  @IsObject()
  @ValidateBy({
    name: 'isContext',
    validator: {
      validate: isContext,
      defaultMessage: () =>
        `$property must be a flat object of at most ${MAX_ATTRIBUTES} attributes whose values are strings, numbers, booleans or null`,
    },
  })
  context!: Record<string, string | number | boolean | null>;
}
