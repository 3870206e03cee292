import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsBoolean, IsIn, IsOptional, IsString, Matches, MaxLength, MinLength } from 'class-validator';
import { ROLES, type Role } from '../../common/actor.js';
import { IsOptionalName, KEY_PATTERN, NOT_EMPTY } from '../../common/validation.js';
import { EMAIL, MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH } from '../../config/config.js';

const IsEmail = () =>
  applyDecorators(ApiProperty({ example: 'ada@example.com', maxLength: 254 }), IsString(), Matches(EMAIL, { message: '$property must be an email address' }));

const IsPassword = () =>
  applyDecorators(
    ApiProperty({ minLength: MIN_PASSWORD_LENGTH, maxLength: MAX_PASSWORD_LENGTH, description: 'Not the email address' }),
    IsString(),
    MinLength(MIN_PASSWORD_LENGTH, { message: `$property must be at least ${MIN_PASSWORD_LENGTH} characters` }),
    MaxLength(MAX_PASSWORD_LENGTH),
  );

const IsPersonName = () => applyDecorators(ApiProperty({ example: 'Ada Lovelace', maxLength: 200 }), IsString(), MinLength(1, NOT_EMPTY), MaxLength(200));

const IsEnvironmentList = () =>
  applyDecorators(
    ApiPropertyOptional({ type: [String], nullable: true, example: ['development'], description: 'Editors only: the environments they may change (kill: all). null or absent: every environment' }),
    IsOptional(),
    IsArray(),
    ArrayMaxSize(100),
    Matches(KEY_PATTERN, { each: true, message: '$property must hold environment keys' }),
  );

export class SetupDto {
  @ApiProperty({ description: 'The token of the setup link printed on the first start' })
  @IsString()
  @MaxLength(200)
  token!: string;

  @IsEmail() email!: string;
  @IsPersonName() name!: string;
  @IsPassword() password!: string;
}

export class LoginDto {
  @IsEmail() email!: string;

  @ApiProperty()
  @IsString()
  @MaxLength(MAX_PASSWORD_LENGTH)
  password!: string;
}

export class AcceptInviteDto {
  @ApiProperty({ description: 'The token of the invite link' })
  @IsString()
  @MaxLength(200)
  token!: string;

  @IsOptionalName() name?: string;
  @IsPassword() password!: string;
}

export class ResetPasswordDto {
  @ApiProperty({ description: 'The token of the password reset link' })
  @IsString()
  @MaxLength(200)
  token!: string;

  @IsPassword() password!: string;
}

export class InvitePersonDto {
  @IsEmail() email!: string;
  @IsPersonName() name!: string;

  @ApiProperty({ enum: ROLES })
  @IsIn(ROLES)
  role!: Role;

  @IsEnvironmentList() environments?: string[] | null;
}

export class UpdatePersonDto {
  @IsOptionalName() name?: string;

  @ApiPropertyOptional({ enum: ROLES })
  @IsOptional()
  @IsIn(ROLES)
  role?: Role;

  @IsEnvironmentList() environments?: string[] | null;

  @ApiPropertyOptional({ description: 'true: ends their sessions at once and refuses sign-in; false: active again' })
  @IsOptional()
  @IsBoolean()
  disabled?: boolean;
}

export class PersonView {
  @ApiProperty() id!: string;
  @ApiProperty() email!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ enum: ROLES }) role!: Role;
  @ApiProperty({ type: [String], nullable: true }) environments!: string[] | null;
  @ApiProperty({ enum: ['invited', 'active', 'disabled'] }) state!: 'invited' | 'active' | 'disabled';
  @ApiProperty() createdAt!: string;
}

export class CsrfView {
  @ApiProperty({ example: 'aviary_csrf', description: 'The readable cookie holding the token' }) cookie!: string;
  @ApiProperty({ example: 'X-CSRF-Token', description: "The header every cookie-authenticated POST, PUT, PATCH and DELETE must carry, with the cookie's value" }) header!: string;
}

export class MeView extends PersonView {
  @ApiProperty() sessionId!: string;
  @ApiProperty({ type: () => CsrfView }) csrf!: CsrfView;
}

export class SignInOptionsView {
  @ApiProperty({ description: 'POST /api/v1/auth/login is open (AVIARY_PASSWORD_LOGIN)' }) password!: boolean;
  @ApiProperty({ description: 'Single sign-on is configured: send the browser to GET /api/v1/auth/oidc/login' }) oidc!: boolean;
  @ApiProperty({ description: 'Nobody exists yet: the first admin uses the setup link printed on start' }) setupRequired!: boolean;
}

export class InvitedPersonView extends PersonView {
  @ApiProperty({ description: 'One-time link to pass on to the person; expires in 7 days' }) inviteUrl!: string;
}

export class LinkView {
  @ApiProperty({ description: 'One-time link; expires in 7 days' }) url!: string;
}
