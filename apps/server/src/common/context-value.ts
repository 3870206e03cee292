import { ValidateBy, type ValidationOptions } from 'class-validator';

/** A context value: a string (at most 1024 characters), a finite number or a boolean. */
export function IsContextValue(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isContextValue',
      validator: {
        validate: (v: unknown) =>
          (typeof v === 'string' && v.length <= 1024) || (typeof v === 'number' && Number.isFinite(v)) || typeof v === 'boolean',
        defaultMessage: () => '$property must hold strings (at most 1024 characters), numbers or booleans',
      },
    },
    options,
  );
}
