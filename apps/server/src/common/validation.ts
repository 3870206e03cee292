import { ValidationPipe, type ValidationError } from '@nestjs/common';
import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional, type ApiPropertyOptions } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsOptional, IsString, Matches, MaxLength, MinLength, ValidateNested } from 'class-validator';
import { type FieldError, ValidationFailedException } from './validation-failed.exception.js';

/** Keys of environments, flags, cohorts and rules: URL-safe, bounded. */
export const KEY_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
export const KEY_RULE = '1 to 64 letters, digits, ".", "_" or "-", starting with a letter or digit';

/** A resource key: a string of 1–64 URL-safe characters. */
export function IsResourceKey(options: ApiPropertyOptions = {}): PropertyDecorator {
  return applyDecorators(
    ApiProperty({ type: String, pattern: KEY_PATTERN.source, example: 'new-checkout', ...options } as ApiPropertyOptions),
    IsString(),
    Matches(KEY_PATTERN, { message: `$property must be ${KEY_RULE}` }),
  );
}

/** An optional display name: 1–200 characters. */
export function IsOptionalName(options: ApiPropertyOptions = {}): PropertyDecorator {
  return applyDecorators(ApiPropertyOptional({ maxLength: 200, ...options } as ApiPropertyOptions), IsOptional(), IsString(), MinLength(1), MaxLength(200));
}

/** An optional free-text description: at most 2,000 characters. */
export function IsOptionalDescription(): PropertyDecorator {
  return applyDecorators(ApiPropertyOptional({ maxLength: 2000 }), IsOptional(), IsString(), MaxLength(2000));
}

/** An optional array of at most `maxItems` objects, each validated as `type`. */
export function IsOptionalArrayOf(type: new () => object, maxItems: number, options: ApiPropertyOptions = {}): PropertyDecorator {
  return applyDecorators(
    ApiPropertyOptional({ type: [type], maxItems, ...options } as ApiPropertyOptions),
    IsOptional(),
    IsArray(),
    ArrayMaxSize(maxItems),
    ValidateNested({ each: true }),
    Type(() => type),
  );
}

/** The one validation pipe (an `APP_PIPE`): unknown properties are refused, and errors carry
 *  field paths such as `rules[0].conditions[1].values`. */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
    transform: true,
    validationError: { target: false, value: false },
    exceptionFactory: (errors) => new ValidationFailedException(flattenValidationErrors(errors)),
  });
}

export function flattenValidationErrors(errors: ValidationError[], parent = ''): FieldError[] {
  const out: FieldError[] = [];
  for (const error of errors) {
    const path = joinPath(parent, error.property);
    for (const message of Object.values(error.constraints ?? {})) {
      out.push({ path: path || '(body)', message: withoutPropertyName(message, error.property) });
    }
    if (error.children?.length) out.push(...flattenValidationErrors(error.children, path));
  }
  return out;
}

export function joinPath(parent: string, property: string | number): string {
  if (property === '' || property === undefined) return parent;
  if (typeof property === 'number' || /^\d+$/.test(property)) return `${parent}[${property}]`;
  return parent ? `${parent}.${property}` : property;
}

// class-validator messages start with the property name; the path already names it.
function withoutPropertyName(message: string, property: string): string {
  if (message.startsWith(`property ${property} `)) return message.slice(`property ${property} `.length);
  if (message.startsWith(`${property} `)) return message.slice(property.length + 1);
  return message;
}
