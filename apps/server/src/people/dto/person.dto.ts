import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsIn, IsOptional, IsString, Matches, MaxLength, MinLength, ValidateIf } from 'class-validator';
import { ROLES, type Role } from '../../common/actor.js';
import { ReasonDto } from '../../common/reason.dto.js';
import { KEY_PATTERN, KEY_RULE, NOT_EMPTY } from '../../common/validation.js';
import { EMAIL, MAX_PASSWORD_LENGTH } from '../../config/config.js';

export const PERSON_STATES = ['invited', 'active', 'disabled'] as const;

function IsEmail(): PropertyDecorator {
  return (target, property) => {
    ApiProperty({ example: 'ada@example.com', maxLength: 254 })(target, property);
    IsString()(target, property);
    Matches(EMAIL, { message: '$property must be an email address' })(target, property);
  };
}

function IsPassword(): PropertyDecorator {
  return (target, property) => {
    ApiProperty({ minLength: 12, maxLength: MAX_PASSWORD_LENGTH, description: 'At least 12 characters, not the email address' })(target, property);
    IsString()(target, property);
    // Length and "not the email" are checked by the service, which knows the email.
    MaxLength(MAX_PASSWORD_LENGTH)(target, property);
  };
}

function IsPersonName(optional: boolean): PropertyDecorator {
  return (target, property) => {
    (optional ? ApiPropertyOptional : ApiProperty)({ maxLength: 200, example: 'Ada Lovelace' })(target, property);
    if (optional) IsOptional()(target, property);
    IsString()(target, property);
    MinLength(1, NOT_EMPTY)(target, property);
    MaxLength(200)(target, property);
  };
}

/** An editor's environments; null or omitted: all of them. */
function IsEnvironmentList(): PropertyDecorator {
  return (target, property) => {
    ApiPropertyOptional({
      type: [String],
      nullable: true,
      example: ['development'],
      description: "Editors only: the environments they may change (elsewhere they may read and kill); null: all",
    })(target, property);
    ValidateIf((_o, v) => v !== null)(target, property);
    IsOptional()(target, property);
    IsArray()(target, property);
    ArrayMaxSize(100)(target, property);
    Matches(KEY_PATTERN, { each: true, message: `each value in $property must be an environment key (${KEY_RULE})` })(target, property);
  };
}

export class LoginDto {
  @IsEmail() email!: string;
  @ApiProperty() @IsString() @MaxLength(MAX_PASSWORD_LENGTH) password!: string;
}

export class SetupDto {
  @ApiProperty({ description: 'The token of the setup link printed on first start' }) @IsString() @MaxLength(200) token!: string;
  @IsEmail() email!: string;
  @IsPersonName(false) name!: string;
  @IsPassword() password!: string;
}

export class AcceptInviteDto {
  @ApiProperty({ description: 'The token of an invite or password-reset link' }) @IsString() @MaxLength(200) token!: string;
  @IsPersonName(true) name?: string;
  @IsPassword() password!: string;
}

export class InvitePersonDto extends ReasonDto {
  @IsEmail() email!: string;
  @IsPersonName(false) name!: string;
  @ApiProperty({ enum: ROLES }) @IsIn(ROLES) role!: Role;
  @IsEnvironmentList() environments?: string[] | null;
}

export class UpdatePersonDto extends ReasonDto {
  @IsPersonName(true) name?: string;
  @ApiPropertyOptional({ enum: ROLES }) @IsOptional() @IsIn(ROLES) role?: Role;
  @IsEnvironmentList() environments?: string[] | null;
  @ApiPropertyOptional({ enum: ['active', 'disabled'], description: 'disabled: signs the person out everywhere at once' })
  @IsOptional()
  @IsIn(['active', 'disabled'])
  state?: 'active' | 'disabled';
}

export class PersonView {
  @ApiProperty() id!: string;
  @ApiProperty() email!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ enum: ROLES }) role!: Role;
  @ApiProperty({ type: [String], nullable: true, description: 'null: every environment' }) environments!: string[] | null;
  @ApiProperty({ enum: PERSON_STATES }) state!: (typeof PERSON_STATES)[number];
  @ApiProperty({ description: 'Signs in with single sign-on' }) sso!: boolean;
  @ApiProperty() createdAt!: string;
}

export class LinkView {
  @ApiProperty({ description: 'One-time link to pass on (no email is sent)', example: 'http://localhost:4000/invite?token=…' }) url!: string;
  @ApiProperty() expiresAt!: string;
}

export class InvitedPersonView extends PersonView {
  @ApiProperty({ description: 'One-time link, valid 7 days: pass it on (no email is sent)' }) inviteUrl!: string;
  @ApiProperty() inviteExpiresAt!: string;
}

export class SessionView {
  @ApiProperty() id!: string;
  @ApiProperty({ enum: ['password', 'oidc'] }) method!: 'password' | 'oidc';
  @ApiProperty({ type: String, nullable: true }) userAgent!: string | null;
  @ApiProperty({ type: String, nullable: true }) address!: string | null;
  @ApiProperty() createdAt!: string;
  @ApiProperty() lastSeenAt!: string;
  @ApiProperty({ description: 'When it ends unless used again (idle timeout), or its absolute end if sooner' }) expiresAt!: string;
}

export class CsrfView {
  @ApiProperty({ example: 'aviary_csrf' }) cookie!: string;
  @ApiProperty({ example: 'X-CSRF-Token' }) header!: string;
  @ApiProperty({ description: 'The value to send in the header on every write (the same as the cookie)' }) token!: string;
}

export class MeView {
  @ApiProperty({ type: () => PersonView }) person!: PersonView;
  @ApiProperty({ type: () => SessionView }) session!: SessionView;
  @ApiProperty({ type: () => CsrfView }) csrf!: CsrfView;
}

export class SignInOptionsView {
  @ApiProperty({ description: 'POST /api/v1/auth/login is open' }) password!: boolean;
  @ApiProperty({ description: 'GET /api/v1/auth/oidc/login is configured' }) oidc!: boolean;
  @ApiProperty({ description: 'No person exists yet: open the setup link printed on start' }) setupRequired!: boolean;
}
