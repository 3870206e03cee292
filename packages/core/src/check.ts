/**
 * The structural checks evaluation relies on: the fields of a flag or cohort that break the
 * schema, as paths (`rules[0].rollout.percentage`); none when it is sound. Kept small because it
 * ships in the browser SDK; `validate.ts` adds messages and the server's own checks.
 */

type Json = Record<string, unknown>;

export const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const isArray = Array.isArray;
const isString = (v: unknown): v is string => typeof v === 'string';
const optional = (v: unknown, type: string) => v === undefined || typeof v === type;
const isWeight = (v: unknown) => Number.isInteger(v) && (v as number) >= 0;
const isValue = (v: unknown) => isString(v) || typeof v === 'boolean' || Number.isFinite(v);
export const isStrings = (v: unknown): v is string[] => isArray(v) && v.every(isString);
/** A cohort list: keys, or a `MemberSet` holding them (`has` is what JSON data cannot have). */
const isKeys = (v: unknown) => isStrings(v) || typeof (v as { has?: unknown } | undefined)?.has == 'function';

/** The paths of the `[ok, path]` pairs that are not ok. */
const failing = (...checks: Array<[unknown, string]>) => checks.filter(([ok]) => !ok).map(([, path]) => path);

/** Runs `check` on each element of an optional array of objects. */
const each = (list: unknown, path: string, check: (item: Json, at: string) => string[]): string[] =>
  list === undefined ? [] : !isArray(list) ? [path] : list.flatMap((item, i) => (isObject(item) ? check(item, `${path}[${i}]`) : [`${path}[${i}]`]));

export const conditionProblems = (conditions: unknown, path: string): string[] =>
  each(conditions, path, (c, at) =>
    failing(
      [isString(c.attribute), `${at}.attribute`],
      [isString(c.operator), `${at}.operator`],
      [c.values === undefined || (isArray(c.values) && c.values.every(isValue)), `${at}.values`],
      [optional(c.negate, 'boolean'), `${at}.negate`],
      [optional(c.caseInsensitive, 'boolean'), `${at}.caseInsensitive`],
    ),
  );

export function flagProblems(flag: unknown): string[] {
  if (!isObject(flag)) return [''];
  const keys = new Set<string>();
  return [
    ...failing([typeof flag.enabled === 'boolean', 'enabled'], [optional(flag.salt, 'string'), 'salt']),
    ...each(flag.variants, 'variants', (v, at) => {
      const fresh = isString(v.key) && v.key !== '' && !keys.has(v.key);
      if (fresh) keys.add(v.key as string);
      return failing([fresh, `${at}.key`], [v.weight === undefined || isWeight(v.weight), `${at}.weight`]);
    }),
    ...each(flag.prerequisites, 'prerequisites', (p, at) =>
      failing([isString(p.flag), `${at}.flag`], [optional(p.enabled, 'boolean'), `${at}.enabled`], [p.variants === undefined || isStrings(p.variants), `${at}.variants`]),
    ),
    ...each(flag.rules, 'rules', (r, at) => {
      const rollout = r.rollout as Json | undefined;
      const p = rollout?.percentage;
      return [
        ...failing(
          [isString(r.id), `${at}.id`],
          [r.cohorts === undefined || isStrings(r.cohorts), `${at}.cohorts`],
          [rollout === undefined || isObject(rollout), `${at}.rollout`],
          [rollout === undefined || (typeof p === 'number' && p >= 0 && p <= 100), `${at}.rollout.percentage`],
          [optional(rollout?.bucketBy, 'string'), `${at}.rollout.bucketBy`],
          [optional(rollout?.salt, 'string'), `${at}.rollout.salt`],
          [r.variant === undefined || keys.has(r.variant as string), `${at}.variant`],
        ),
        ...conditionProblems(r.conditions, `${at}.conditions`),
        ...each(r.split, `${at}.split`, (s, sat) => failing([keys.has(s.variant as string), `${sat}.variant`], [isWeight(s.weight), `${sat}.weight`])),
      ];
    }),
  ];
}

export const cohortProblems = (cohort: unknown): string[] =>
  isObject(cohort)
    ? [
        ...failing([cohort.included === undefined || isKeys(cohort.included), 'included'], [cohort.excluded === undefined || isKeys(cohort.excluded), 'excluded']),
        ...conditionProblems(cohort.conditions, 'conditions'),
      ]
    : [''];
