import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsBoolean, IsIn, IsOptional, IsString, Matches, MaxLength, MinLength, ValidateIf } from 'class-validator';
import { PageQuery } from '../../common/paging.js';
import { ReasonDto } from '../../common/reason.dto.js';
import { IsResourceKey, KnownElsewhere, NOT_EMPTY } from '../../common/validation.js';

export const KEY_KINDS = ['admin', 'server', 'client'] as const;
export const MAX_KEY_ORIGINS = 50;

/** A client key's CORS origins: `https://app.example.com` (scheme and host, no path) or `*`;
 *  `null` falls back to the server-wide `AVIARY_CORS_ORIGINS`. */
function IsOriginList(): PropertyDecorator {
  return (target, property) => {
    ApiPropertyOptional({
      type: [String],
      nullable: true,
      maxItems: MAX_KEY_ORIGINS,
      example: ['https://shop.example.com'],
      description: 'Client keys only: the origins browsers may use this key from, instead of AVIARY_CORS_ORIGINS (null: those)',
    })(target, property);
    ValidateIf((_o, v) => v !== null)(target, property);
    IsOptional()(target, property);
    IsArray()(target, property);
    ArrayMaxSize(MAX_KEY_ORIGINS)(target, property);
    MaxLength(255, { each: true })(target, property);
    Matches(/^(\*|https?:\/\/[^\s,/]+)$/, { each: true, message: 'each value must be an origin such as https://app.example.com (scheme and host, no path), or *' })(target, property);
  };
}

export class CreateApiKeyDto extends ReasonDto {
  @ApiProperty({ maxLength: 200, example: 'checkout-service production' })
  @IsString()
  @MinLength(1, NOT_EMPTY)
  @MaxLength(200)
  name!: string;

  @ApiProperty({ enum: KEY_KINDS, description: 'admin: the admin API; server: one environment, full ruleset; client: one environment, browser-safe' })
  @IsIn(KEY_KINDS)
  kind!: (typeof KEY_KINDS)[number];

  @ApiPropertyOptional({ description: 'Required for server and client keys; not allowed for admin keys', example: 'production' })
  // Unknown until the kind is valid: a missing kind is reported, not a missing environment.
  @ValidateIf((o: CreateApiKeyDto) => o.kind === 'server' || o.kind === 'client' || o.environment !== undefined)
  @IsResourceKey()
  environment?: string;

  @ApiPropertyOptional({ description: 'Admin keys only: may read but not change anything', default: false })
  @IsOptional()
  @IsBoolean()
  readOnly?: boolean;

  @IsOriginList()
  allowedOrigins?: string[] | null;
}

const FIXED = 'only allowedOrigins can change; create a new key and revoke this one';

@KnownElsewhere({ name: FIXED, kind: FIXED, environment: FIXED, readOnly: FIXED })
export class UpdateApiKeyDto extends ReasonDto {
  @IsOriginList()
  allowedOrigins?: string[] | null;
}

export class ApiKeyListQuery extends PageQuery {
  @ApiPropertyOptional({ default: false })
  @IsOptional()
  @Transform(({ value }) => (value === 'true' ? true : value === 'false' ? false : value))
  @IsBoolean()
  includeRevoked?: boolean;
}

export class KeyCreatorView {
  @ApiProperty() personId!: string;
  @ApiProperty({ type: String, nullable: true }) email!: string | null;
}

export class ApiKeyView {
  @ApiProperty() id!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ enum: KEY_KINDS }) kind!: string;
  @ApiProperty({ nullable: true, type: String }) environment!: string | null;
  @ApiProperty() readOnly!: boolean;
  @ApiProperty({ type: [String], nullable: true, description: 'A client key\'s own CORS origins (null: AVIARY_CORS_ORIGINS)' })
  allowedOrigins!: string[] | null;
  @ApiProperty({ description: 'The first characters of the key, to recognise it' }) prefix!: string;
  @ApiProperty() createdAt!: string;
  @ApiProperty({ nullable: true, type: String }) lastUsedAt!: string | null;
  @ApiProperty({ nullable: true, type: String }) revokedAt!: string | null;
  @ApiProperty({ type: () => KeyCreatorView, nullable: true, description: 'The person who created the key (null: created by a key or on first start)' })
  createdBy!: KeyCreatorView | null;
}

export class CreatedApiKeyView extends ApiKeyView {
  @ApiProperty({ description: 'The key itself: shown in this response only' }) secret!: string;
}

export class ApiKeyPageView {
  @ApiProperty({ type: [ApiKeyView] }) items!: ApiKeyView[];
  @ApiProperty({ nullable: true, type: String }) nextCursor!: string | null;
}
