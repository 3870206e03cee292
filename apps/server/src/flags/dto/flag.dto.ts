import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsBoolean, IsInt, IsOptional, IsString, Max, MaxLength, Min, MinLength } from 'class-validator';
import { ReasonDto } from '../../common/reason.dto.js';
import { IsOptionalArrayOf, IsOptionalDescription, IsOptionalName, IsResourceKey, KnownElsewhere, NO_EMPTY_STRINGS } from '../../common/validation.js';

export class VariantDto {
  @IsResourceKey({ example: 'blue' })
  key!: string;

  @ApiPropertyOptional({ description: 'Any JSON value served with the variant', example: { color: '#00f' } })
  @IsOptional()
  value?: unknown;

  @ApiPropertyOptional({ minimum: 0, maximum: 1_000_000, description: 'Weight in the flag\'s default split' })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(1_000_000)
  weight?: number;
}

const PER_ENVIRONMENT = 'per environment with PUT /api/v1/environments/:env/flags/:key';

@KnownElsewhere({
  enabled: `set it ${PER_ENVIRONMENT}`,
  salt: `set it ${PER_ENVIRONMENT}`,
  rules: `set them ${PER_ENVIRONMENT}`,
  prerequisites: `set them ${PER_ENVIRONMENT}`,
  environments: `set them ${PER_ENVIRONMENT}`,
  percentage: 'set it per environment with PUT /api/v1/environments/:env/flags/:key/rollout',
  rollout: 'set it per environment with PUT /api/v1/environments/:env/flags/:key/rollout',
  archived: 'archive a flag with DELETE /api/v1/flags/:key',
})
class FlagFieldsDto extends ReasonDto {
  @IsOptionalName()
  name?: string;

  @IsOptionalDescription()
  description?: string;

  @ApiPropertyOptional({ type: [String], maxItems: 20 })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(20)
  @IsString({ each: true })
  @MinLength(1, NO_EMPTY_STRINGS)
  @MaxLength(64, { each: true })
  tags?: string[];

  @IsOptionalArrayOf(VariantDto, 100)
  variants?: VariantDto[];

  @ApiPropertyOptional({ description: 'Whether client (browser) keys see this flag', default: false })
  @IsOptional()
  @IsBoolean()
  clientVisible?: boolean;
}

export class CreateFlagDto extends FlagFieldsDto {
  @IsResourceKey({ example: 'new-checkout' })
  key!: string;
}

@KnownElsewhere({ key: "a flag's key cannot change; create a new flag" })
export class UpdateFlagDto extends FlagFieldsDto {}

export class FlagView {
  @ApiProperty() key!: string;
  @ApiProperty() name!: string;
  @ApiProperty() description!: string;
  @ApiProperty({ type: [String] }) tags!: string[];
  @ApiProperty({ type: [VariantDto] }) variants!: VariantDto[];
  @ApiProperty() clientVisible!: boolean;
  @ApiProperty() createdAt!: string;
  @ApiProperty() updatedAt!: string;
}

export class FlagEnvironmentStateView {
  @ApiProperty() enabled!: boolean;
  @ApiProperty({ description: "The environment's config version (If-Match of its PUT)" }) version!: number;
}

export class FlagDetailView extends FlagView {
  @ApiProperty({ type: 'object', additionalProperties: { $ref: '#/components/schemas/FlagEnvironmentStateView' }, description: 'By environment key' })
  environments!: Record<string, FlagEnvironmentStateView>;
}
