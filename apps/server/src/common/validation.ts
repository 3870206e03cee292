import { ValidationPipe, type ValidationError } from '@nestjs/common';
import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional, type ApiPropertyOptions } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsNumber, IsOptional, IsString, Matches, MaxLength, MinLength, ValidateBy, ValidateNested } from 'class-validator';
import { type FieldError, ValidationFailedException } from './validation-failed.exception.js';

/** Keys of environments, flags, cohorts and rules: URL-safe, bounded. */
export const KEY_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
export const KEY_RULE = '1 to 64 letters, digits, ".", "_" or "-", starting with a letter or digit';

/** Messages for `MinLength(1)` and `ArrayMinSize(1)`: class-validator's say "at least 1 elements". */
export const NOT_EMPTY = { message: '$property must not be empty' };
export const NO_EMPTY_STRINGS = { each: true, message: '$property must not hold empty strings' };

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
  return applyDecorators(ApiPropertyOptional({ maxLength: 200, ...options } as ApiPropertyOptions), IsOptional(), IsString(), MinLength(1, NOT_EMPTY), MaxLength(200));
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

/** A finite number (never NaN or Infinity, which JSON's `1e400` becomes). */
export function IsFiniteNumber(): PropertyDecorator {
  return IsNumber({ allowNaN: false, allowInfinity: false }, { message: '$property must be a finite number' });
}

/** A finite number with at most `places` decimals, exponent forms (`1e-7`) included: the
 *  `maxDecimalPlaces` of class-validator's `IsNumber` throws a TypeError on those. */
export function IsNumberWithDecimals(places: number, what = 'a number'): PropertyDecorator {
  return applyDecorators(
    IsFiniteNumber(),
    ValidateBy({
      name: 'maxDecimals',
      validator: {
        // Not a number is the type check's to report.
        validate: (v: unknown) => typeof v !== 'number' || !Number.isFinite(v) || Number(v.toFixed(places)) === v,
        defaultMessage: () => `$property must be ${what} with at most ${DECIMALS[places] ?? places} decimals`,
      },
    }),
  );
}

const DECIMALS: Record<number, string> = { 1: 'one', 2: 'two', 3: 'three' };

// Unknown fields that belong to another endpoint, per DTO class: where to set them instead.
const elsewhere = new WeakMap<object, Record<string, string>>();

/** Names, for fields a DTO does not take, the endpoint (or header) that does: an unknown
 *  `members` on a cohort says `set members with POST /api/v1/cohorts/:key/members` instead of
 *  only that it is not known. Subclasses inherit the hints. */
export function KnownElsewhere(hints: Record<string, string>): ClassDecorator {
  return (target) => {
    elsewhere.set(target, { ...elsewhere.get(target), ...hints });
  };
}

function elsewhereHint(target: object | undefined, property: string): string | undefined {
  for (let type = target?.constructor; type && type !== Object; type = Object.getPrototypeOf(type)) {
    const hints = elsewhere.get(type);
    if (hints && Object.hasOwn(hints, property)) return hints[property];
  }
  return undefined;
}

/** The one validation pipe (an `APP_PIPE`): unknown properties are refused, and errors carry
 *  field paths such as `rules[0].conditions[1].values`. */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
    transform: true,
    // Read by flattenValidationErrors only (missing fields, hints); never sent to the client.
    validationError: { target: true, value: true },
    exceptionFactory: (errors) => new ValidationFailedException(flattenValidationErrors(errors)),
  });
}

/** Constraints that check a value's type: when one fails, the others (lengths, ranges) only
 *  repeat the problem, and often contradict each other. */
const TYPE_CHECKS = new Set(['isString', 'isNumber', 'isInt', 'isBoolean', 'isArray', 'isObject', 'nestedValidation']);

/** ValidationErrors as field errors: one "is required" for a missing field, only the type check
 *  when the type is wrong, and for an unknown field where it belongs if another endpoint takes it. */
export function flattenValidationErrors(errors: ValidationError[], parent = ''): FieldError[] {
  const out: FieldError[] = [];
  for (const error of errors) {
    const path = joinPath(parent, error.property) || '(body)';
    const constraints = error.constraints ?? {};
    if ('whitelistValidation' in constraints) {
      out.push({ path, message: elsewhereHint(error.target, error.property) ?? 'is not a known field' });
      continue;
    }
    const names = Object.keys(constraints);
    if (names.length > 0 && error.value === undefined) {
      out.push({ path, message: 'is required' });
      continue;
    }
    const typeChecks = names.filter((name) => TYPE_CHECKS.has(name));
    for (const name of typeChecks.length > 0 ? typeChecks : names) {
      out.push({ path, message: withoutPropertyName(constraints[name]!, error.property) });
    }
    if (error.children?.length) out.push(...flattenValidationErrors(error.children, joinPath(parent, error.property)));
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
  for (const prefix of [`nested property ${property} `, `property ${property} `]) {
    if (message.startsWith(prefix)) return message.slice(prefix.length);
  }
  if (message.startsWith(`${property} `)) return message.slice(property.length + 1);
  return message;
}
