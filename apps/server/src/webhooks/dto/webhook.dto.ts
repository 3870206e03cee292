import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsBoolean, IsIn, IsOptional, IsString, Matches, MaxLength, ValidateIf } from 'class-validator';
import { ReasonDto } from '../../common/reason.dto.js';
import { IsOptionalDescription, KEY_PATTERN, KEY_RULE, NOT_EMPTY } from '../../common/validation.js';
import { WEBHOOK_EVENTS } from '../events.js';

export const WEBHOOK_FORMATS = ['standard', 'slack'] as const;
const EVENT_CHOICES = ['*', ...WEBHOOK_EVENTS];

function IsEventList(): PropertyDecorator {
  return (target, property) => {
    IsArray()(target, property);
    ArrayMinSize(1, NOT_EMPTY)(target, property);
    ArrayMaxSize(EVENT_CHOICES.length)(target, property);
    IsIn(EVENT_CHOICES, { each: true, message: `each value must be one of: ${EVENT_CHOICES.join(', ')}` })(target, property);
  };
}

function IsEnvironmentList(): PropertyDecorator {
  return (target, property) => {
    ValidateIf((_o, v) => v !== null)(target, property);
    IsOptional()(target, property);
    IsArray()(target, property);
    ArrayMinSize(1, { message: '$property must not be empty (null or leave it out: every environment)' })(target, property);
    ArrayMaxSize(1000)(target, property);
    Matches(KEY_PATTERN, { each: true, message: `each value must be an environment key: ${KEY_RULE}` })(target, property);
  };
}

export class CreateWebhookDto extends ReasonDto {
  @ApiProperty({ example: 'https://hooks.example.com/aviary', maxLength: 2048, description: 'http(s); non-public addresses are refused unless AVIARY_WEBHOOK_ALLOW_PRIVATE=true' })
  @IsString()
  @MaxLength(2048)
  url!: string;

  @IsOptionalDescription()
  description?: string;

  @ApiProperty({ type: [String], enum: EVENT_CHOICES, example: ['flag.killed', 'rollout.rolled-back'] })
  @IsEventList()
  events!: string[];

  @ApiPropertyOptional({ type: [String], nullable: true, description: 'Only events of these environments (events of no environment, such as flag.created, always match); null: all' })
  @IsEnvironmentList()
  environments?: string[] | null;

  @ApiPropertyOptional({ enum: WEBHOOK_FORMATS, default: 'standard' })
  @IsOptional()
  @IsIn(WEBHOOK_FORMATS)
  format?: (typeof WEBHOOK_FORMATS)[number];

  @ApiPropertyOptional({ default: true })
  @IsOptional()
  @IsBoolean()
  enabled?: boolean;
}

export class UpdateWebhookDto extends ReasonDto {
  @ApiPropertyOptional({ maxLength: 2048 })
  @IsOptional()
  @IsString()
  @MaxLength(2048)
  url?: string;

  @IsOptionalDescription()
  description?: string;

  @ApiPropertyOptional({ type: [String], enum: EVENT_CHOICES })
  @IsOptional()
  @IsEventList()
  events?: string[];

  @ApiPropertyOptional({ type: [String], nullable: true })
  @IsEnvironmentList()
  environments?: string[] | null;

  @ApiPropertyOptional({ enum: WEBHOOK_FORMATS })
  @IsOptional()
  @IsIn(WEBHOOK_FORMATS)
  format?: (typeof WEBHOOK_FORMATS)[number];

  @ApiPropertyOptional({ description: 'true also re-enables a subscription disabled after failures' })
  @IsOptional()
  @IsBoolean()
  enabled?: boolean;
}

export class WebhookView {
  @ApiProperty() id!: string;
  @ApiProperty() url!: string;
  @ApiProperty() description!: string;
  @ApiProperty({ type: [String] }) events!: string[];
  @ApiProperty({ type: [String], nullable: true }) environments!: string[] | null;
  @ApiProperty({ enum: WEBHOOK_FORMATS }) format!: string;
  @ApiProperty() enabled!: boolean;
  @ApiProperty({ nullable: true, description: 'Why it was disabled automatically' }) disabledReason!: string | null;
  @ApiProperty() createdAt!: string;
  @ApiProperty() updatedAt!: string;
}

export class CreatedWebhookView extends WebhookView {
  @ApiProperty({ description: 'The signing secret (whsec_…), in this response only' }) secret!: string;
}

export class RotatedSecretView extends CreatedWebhookView {
  @ApiProperty({ description: 'Until then deliveries carry a signature with the previous secret too' }) previousSecretValidUntil!: string;
}

export class WebhookDeliveryView {
  @ApiProperty() id!: string;
  @ApiProperty({ description: 'The event id: webhook-id, the same on every attempt' }) eventId!: string;
  @ApiProperty({ example: 'flag.killed' }) type!: string;
  @ApiProperty({ enum: ['pending', 'delivered', 'failed'] }) state!: string;
  @ApiProperty() attempts!: number;
  @ApiProperty({ type: Number, nullable: true, description: "The last attempt's HTTP status" }) status!: number | null;
  @ApiProperty({ type: Number, nullable: true }) latencyMs!: number | null;
  @ApiProperty({ type: String, nullable: true, description: 'The first 1 KB of the last answer' }) response!: string | null;
  @ApiProperty({ type: String, nullable: true }) error!: string | null;
  @ApiProperty({ type: String, nullable: true, description: 'When it is tried again (pending only)' }) nextAttemptAt!: string | null;
  @ApiProperty() createdAt!: string;
  @ApiProperty({ type: String, nullable: true }) deliveredAt!: string | null;
}

export class WebhookTestView {
  @ApiProperty() eventId!: string;
}
