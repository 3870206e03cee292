import { BadRequestException } from '@nestjs/common';

/** One problem with a request, at its field path (`rules[0].conditions[1].values`). */
export interface FieldError {
  path: string;
  message: string;
}

/** A 400 naming every bad field; the exception filter puts `errors` in the body. */
export class ValidationFailedException extends BadRequestException {
  constructor(readonly errors: FieldError[]) {
    super({ message: errors.map((e) => `${e.path}: ${e.message}`).join('; '), errors });
  }
}
