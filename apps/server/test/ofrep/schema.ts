import { readFileSync } from 'node:fs';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { parse } from 'yaml';

/**
 * Validators for OFREP's own schemas (open-feature/protocol service/openapi.yaml, see SOURCE.md),
 * by ajv, a maintained JSON Schema 2020-12 validator (OpenAPI 3.1's dialect), and `yaml`.
 */
type Schema = Record<string, unknown>;
const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;

export function loadOfrepDocument(): Schema {
  return parse(readFileSync(new URL('./openapi.yaml', import.meta.url), 'utf8')) as Schema;
}

function compiler(document: Schema): (name: string) => ValidateFunction {
  // strict: false, as OpenAPI's own keywords (example, description on $ref) sit in the schemas.
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  ajv.addFormat('float', true);
  ajv.addSchema(document, 'ofrep');
  return (name) => ajv.getSchema(`ofrep#/components/schemas/${name}`)!;
}

/** The published document, unchanged. */
export const publishedSchema = compiler(loadOfrepDocument());

/** The document with the one correction SOURCE.md describes. */
export const ofrepSchema = compiler(corrected(loadOfrepDocument()));

function corrected(document: Schema): Schema {
  const schemas = (document.components as { schemas: Record<string, Schema> }).schemas;
  const success = schemas.evaluationSuccess as { allOf: Schema[] };
  success.allOf[1] = { anyOf: success.allOf[1]!.oneOf };
  schemas.codeDefaultFlag = { ...schemas.codeDefaultFlag, not: { required: ['value'] } };
  return document;
}

/** Throws with ajv's errors when `value` does not validate against schema `name`. */
export function assertOfrep(name: string, value: unknown): void {
  const validate = ofrepSchema(name);
  if (!validate(value)) throw new Error(`not an OFREP ${name}: ${JSON.stringify(validate.errors)}\n${JSON.stringify(value).slice(0, 2000)}`);
}
