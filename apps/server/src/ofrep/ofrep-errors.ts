import { OfrepErrorCodes } from './ofrep-result.js';

const EVALUATE_PATH = /^\/ofrep\/v1\/evaluate\/flags(?:\/([^/?]*))?\/?(?:\?|$)/;

/**
 * The error body of a refused OFREP request, in the protocol's shapes: a 400 (a body that is not
 * JSON) is `evaluationFailure` (single) or `bulkEvaluationFailure` (bulk) with `PARSE_ERROR`;
 * anything else `generalErrorResponse` (`{ errorDetails }`; 401, 403 and 429 have no body schema).
 * Undefined for other paths. The HTTP exception filter calls it, as body-parser errors never
 * reach a controller.
 */
export function ofrepErrorBody(url: string, statusCode: number, message: string): object | undefined {
  const route = EVALUATE_PATH.exec(url);
  if (route === null) return undefined;
  if (statusCode !== 400) return { errorDetails: message };
  if (route[1] === undefined) return { errorCode: OfrepErrorCodes.PARSE_ERROR, errorDetails: message };
  let key: string;
  try {
    key = decodeURIComponent(route[1]);
  } catch {
    key = route[1];
  }
  return { key, errorCode: OfrepErrorCodes.PARSE_ERROR, errorDetails: message };
}
