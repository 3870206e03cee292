import { ApiProperty } from '@nestjs/swagger';

/** The OpenAPI shape of `AuditEvent` (audit.service.ts), for API clients such as the dashboard. */
export class AuditActorView {
  @ApiProperty({ enum: ['session', 'key', 'system'] }) via!: 'session' | 'key' | 'system';
  @ApiProperty({ nullable: true, type: String }) personId!: string | null;
  @ApiProperty({ nullable: true, type: String }) email!: string | null;
  @ApiProperty({ nullable: true, type: String }) keyId!: string | null;
  @ApiProperty() name!: string;
}

export class AuditEventView {
  @ApiProperty() id!: string;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ type: AuditActorView }) actor!: AuditActorView;
  @ApiProperty({ example: 'flag-config.kill' }) action!: string;
  @ApiProperty() resourceType!: string;
  @ApiProperty() resourceKey!: string;
  @ApiProperty({ nullable: true, type: String }) environment!: string | null;
  @ApiProperty({ nullable: true, type: Number }) revision!: number | null;
  @ApiProperty({ nullable: true, type: 'object', additionalProperties: { type: 'number' } }) revisions!: Record<string, number> | null;
  @ApiProperty({ nullable: true, description: 'The resource before the write (any JSON)' }) before!: unknown;
  @ApiProperty({ nullable: true, description: 'The resource after the write (any JSON)' }) after!: unknown;
  @ApiProperty({ nullable: true, type: String }) reason!: string | null;
  @ApiProperty({ nullable: true, type: String }) requestId!: string | null;
}

export class AuditPageView {
  @ApiProperty({ type: [AuditEventView] }) items!: AuditEventView[];
  @ApiProperty({ nullable: true, type: String }) nextCursor!: string | null;
}
