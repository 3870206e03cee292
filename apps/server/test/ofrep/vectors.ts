import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Cohort, Context, Flag, Result, Ruleset } from '@aviary/core';

/**
 * The evaluation vectors of @aviary/core (vectors/vectors.json) that an OFREP request can express,
 * loaded into a real server through its admin API. Each vector's ruleset gets a prefix on its flag
 * and cohort keys (the salt is pinned to the original key, so bucketing is unchanged).
 *
 * Left out, and why (docs/ofrep.md "Tested"):
 * - `now`: the vector fixes the clock; an OFREP request cannot set the server's.
 * - a context that is not an object, or whose `key` is not a string: OFREP's `targetingKey` is a
 *   required string (a missing one is TARGETING_KEY_MISSING, tested on its own).
 * - INVALID_FLAG / INVALID_COHORT / INVALID_INPUT results: the admin API refuses such flags and
 *   cohorts, so a server never holds them.
 * - a context holding NUL or a lone surrogate: the server refuses them in any request body.
 * - an array value: OFREP's object type is a JSON object; the server answers in code-default form.
 * - rulesets the admin API refuses for other reasons (an empty `values` list, keys outside its key
 *   pattern, a rule naming a cohort that does not exist): counted and printed by the test.
 */
export interface VectorCase {
  name: string;
  ruleset: Ruleset;
  flag: string;
  context: Context;
  now?: number;
  expected: Record<string, unknown>;
}

export interface LoadedVector extends VectorCase {
  /** The flag's key on the server. */
  serverFlag: string;
}

export function loadVectors(): { all: VectorCase[]; expressible: VectorCase[]; excluded: Record<string, number> } {
  const file = createRequire(import.meta.url).resolve('@aviary/core/vectors.json');
  const all = (JSON.parse(readFileSync(file, 'utf8')) as { cases: VectorCase[] }).cases;
  const excluded: Record<string, number> = {};
  const expressible = all.filter((c) => {
    const why = exclusion(c);
    if (why !== undefined) excluded[why] = (excluded[why] ?? 0) + 1;
    return why === undefined;
  });
  return { all, expressible, excluded };
}

// eslint-disable-next-line no-control-regex -- NUL is one of the characters the server refuses
const REFUSED_TEXT = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function exclusion(c: VectorCase): string | undefined {
  if (c.now !== undefined) return 'fixes the clock';
  const context = c.context as unknown;
  if (typeof context !== 'object' || context === null || Array.isArray(context)) return 'context is not an object';
  if (typeof c.context.key !== 'string') return 'context key is not a string';
  if ('targetingKey' in c.context) return 'context has a targetingKey attribute';
  if (['INVALID_FLAG', 'INVALID_COHORT', 'INVALID_INPUT'].includes(c.expected.errorCode as string)) return 'the admin API refuses the ruleset';
  // The server refuses NUL and lone surrogates in every request body (docs/security.md).
  if (Object.entries(c.context).some(([name, v]) => REFUSED_TEXT.test(name) || (typeof v === 'string' && REFUSED_TEXT.test(v)))) return 'context holds a NUL or a lone surrogate';
  if (Array.isArray(c.expected.value)) return "the value is an array (OFREP's object type is a JSON object)";
  return undefined;
}

type Admin = (method: string, path: string, body?: unknown) => Promise<{ status: number; body: unknown }>;

/**
 * Writes each distinct ruleset into `environment` with a prefix; answers the vectors whose
 * rulesets the server took, and how many it refused.
 */
export async function loadIntoServer(admin: Admin, environment: string, vectors: VectorCase[]): Promise<{ loaded: LoadedVector[]; refused: string[] }> {
  const prefixes = new Map<string, string>();
  const refusedRulesets = new Map<string, string>();
  const pending: Array<() => Promise<void>> = [];
  for (const vector of vectors) {
    const id = JSON.stringify(vector.ruleset);
    if (prefixes.has(id)) continue;
    const prefix = `v${prefixes.size}-`;
    prefixes.set(id, prefix);
    pending.push(async () => {
      const problem = await write(admin, environment, prefix, vector.ruleset);
      if (problem !== undefined) refusedRulesets.set(id, `${vector.name}: ${problem}`);
    });
  }
  // Rulesets are independent: a few at a time.
  await Promise.all(Array.from({ length: 6 }, async () => {
    for (let job = pending.shift(); job; job = pending.shift()) await job();
  }));
  const loaded: LoadedVector[] = [];
  const refused: string[] = [];
  for (const vector of vectors) {
    const id = JSON.stringify(vector.ruleset);
    const problem = refusedRulesets.get(id);
    if (problem !== undefined) refused.push(problem);
    else loaded.push({ ...vector, serverFlag: `${prefixes.get(id)}${vector.flag}` });
  }
  return { loaded, refused };
}

async function write(admin: Admin, environment: string, prefix: string, ruleset: Ruleset): Promise<string | undefined> {
  const check = (what: string, res: { status: number; body: unknown }) =>
    res.status >= 300 ? `${what}: ${res.status} ${JSON.stringify(res.body).slice(0, 300)}` : undefined;
  for (const [key, cohort] of Object.entries(ruleset.cohorts ?? {}) as Array<[string, Cohort]>) {
    const made = check(`cohort ${key}`, await admin('POST', '/api/v1/cohorts', { key: prefix + key, ...(cohort.conditions ? { conditions: cohort.conditions } : {}) }));
    if (made) return made;
    if (cohort.included?.length || cohort.excluded?.length) {
      const members = check(`members of ${key}`, await admin('POST', `/api/v1/cohorts/${prefix + key}/members`, { add: cohort.included ?? [], exclude: cohort.excluded ?? [] }));
      if (members) return members;
    }
  }
  const flags = Object.entries(ruleset.flags) as Array<[string, Flag]>;
  for (const [key, flag] of flags) {
    const made = check(`flag ${key}`, await admin('POST', '/api/v1/flags', { key: prefix + key, clientVisible: true, ...(flag.variants ? { variants: flag.variants } : {}) }));
    if (made) return made;
  }
  for (const [key, flag] of flags) {
    const config = {
      enabled: flag.enabled,
      salt: flag.salt ?? key,
      rules: (flag.rules ?? []).map((rule) => ({ ...rule, ...(rule.cohorts ? { cohorts: rule.cohorts.map((c) => prefix + c) } : {}) })),
      prerequisites: (flag.prerequisites ?? []).map((q) => ({ ...q, flag: prefix + q.flag })),
    };
    const put = check(`config of ${key}`, await admin('PUT', `/api/v1/environments/${environment}/flags/${prefix + key}`, config));
    if (put) return put;
  }
  return undefined;
}

type Json = boolean | string | number | null | Json[] | { [key: string]: Json };

/** The vector's context as OFREP sends it: `key` becomes `targetingKey`. */
export function ofrepContext(vector: VectorCase): Record<string, string | number | boolean | null> {
  const { key, ...attributes } = vector.context;
  return { ...(attributes as Record<string, string | number | boolean | null>), targetingKey: key as string };
}

/** What the vector's value is, so the provider's matching typed getter is called, and a default
 *  that differs from any answer the server gives. */
export function probeFor(vector: VectorCase, result: Result): { type: 'boolean' | 'string' | 'number' | 'object'; fallback: Json } {
  const flag = vector.ruleset.flags[vector.flag] as Flag | undefined;
  const value = result.enabled ? (result.value ?? result.variant ?? true) : flag?.variants?.length ? undefined : false;
  if (typeof value === 'boolean' && result.reason !== 'FLAG_NOT_FOUND' && result.reason !== 'ERROR') return { type: 'boolean', fallback: !value };
  if (typeof value === 'number') return { type: 'number', fallback: -1 };
  if (typeof value === 'object' && value !== null) return { type: 'object', fallback: { default: true } };
  return { type: 'string', fallback: '<default>' };
}

/**
 * What an OpenFeature provider must answer for a vector: `@aviary/core`'s result under the
 * mapping of docs/ofrep.md. `codeDefault`: how the provider shows OFREP's code-default form, as
 * the caller's default with the server's reason (`default`, the web provider) or as an error
 * (`error`, the Node provider 0.1.3, which predates the form); the caller's default either way.
 */
export function expectedDetails(vector: VectorCase, result: Result, fallback: Json, codeDefault: 'default' | 'error'): Record<string, unknown> {
  const flag = vector.ruleset.flags[vector.flag] as Flag | undefined;
  if (result.reason === 'FLAG_NOT_FOUND') return { value: fallback, errorCode: 'FLAG_NOT_FOUND' };
  if (result.reason === 'ERROR') return { value: fallback, errorCode: result.errorCode === 'GENERAL' ? 'GENERAL' : 'PARSE_ERROR' };
  const rule = flag?.rules?.find((r) => r.id === result.ruleId);
  const weights = rule?.split?.map((a) => a.weight) ?? (flag?.variants ?? []).map((v) => v.weight ?? 0);
  const split = result.variant !== undefined && rule?.variant === undefined && weights.filter((w) => w > 0).length > 1;
  const reasons: Record<string, string> = {
    DISABLED: 'DISABLED',
    RULE_MATCH: split ? 'SPLIT' : 'TARGETING_MATCH',
    DEFAULT: split ? 'SPLIT' : 'STATIC',
    NO_MATCH: 'TARGETING_MATCH',
    PREREQUISITE_FAILED: 'TARGETING_MATCH',
  };
  if (!result.enabled && flag?.variants?.length) {
    return codeDefault === 'error' ? { value: fallback, errorCode: 'GENERAL' } : { value: fallback, reason: reasons[result.reason], errorCode: undefined };
  }
  return { value: result.enabled ? (result.value ?? result.variant ?? true) : false, variant: result.variant, reason: reasons[result.reason], errorCode: undefined };
}
