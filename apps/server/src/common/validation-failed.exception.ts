import { BadRequestException } from '@nestjs/common';

/** One problem with a request, at its field path (`rules[0].conditions[1].values`). */
export interface FieldError {
  path: string;
  message: string;
}

/** A 400 naming every bad field; the exception filter puts `errors` in the body. The message
 *  reads `name is required; percentage: must be a finite number`. */
export class ValidationFailedException extends BadRequestException {
  constructor(readonly errors: FieldError[]) {
    super({ message: errors.map(describeFieldError).join('; '), errors });
  }
}

/** `path: message`, or `path is …` when the message says what the field is. */
export function describeFieldError({ path, message }: FieldError): string {
  return message.startsWith('is ') ? `${path} ${message}` : `${path}: ${message}`;
}
