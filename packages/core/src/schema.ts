import { MAX_PATTERN_LENGTH } from './conditions/compile.js';
import { parseCidr } from './conditions/cidr.js';
import { parseInstant } from './conditions/dates.js';
import { parseSemver } from './conditions/semver.js';
import { Operators, type Ruleset } from './types.js';

/** One problem in a flag or cohort, with the field path (`rules[0].conditions[1].values`). */
export interface Issue {
  path: string;
  message: string;
}

export interface ValidateOptions {
  /**
   * Also apply the checks the server makes when a flag is written: known operators, at most three
   * decimals, values that parse, safe regexes, and (with `ruleset`) references that exist and no
   * prerequisite cycles. Evaluation only needs the structural checks.
   */
  strict?: boolean;
  /** The ruleset the flag will live in, to check cohort, flag and prerequisite references. */
  ruleset?: Ruleset;
  /** The flag's key in the ruleset (for self-references and cycles). */
  key?: string;
}

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const isPrimitive = (v: unknown) => typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v)) || typeof v === 'boolean';
const isWeight = (v: unknown) => typeof v === 'number' && Number.isInteger(v) && v >= 0;
const known = new Set<string>(Operators);

/** Nested quantifiers like `(a+)+` or `(\w*)*` backtrack catastrophically. */
const NESTED_QUANTIFIER = /\((?:[^()\\]|\\.)*[+*}](?:[^()\\]|\\.)*\)\s*(?:[+*]|\{\d+,?\d*\})/;

function decimals(n: number): number {
  if (Number.isInteger(n)) return 0;
  const text = String(n);
  const exp = /e-(\d+)$/.exec(text);
  if (exp) return Number(exp[1]) + (text.split('e')[0]!.split('.')[1]?.length ?? 0);
  return text.split('.')[1]?.length ?? 0;
}

function checkValues(operator: string, values: unknown[], path: string, issues: Issue[]): void {
  const first = values[0];
  const need = (ok: boolean, message: string) => ok || issues.push({ path, message });
  switch (operator) {
    case 'matches':
      if (!need(typeof first === 'string', 'must hold a regular expression as its first value')) return;
      if (!need((first as string).length <= MAX_PATTERN_LENGTH, `regular expression longer than ${MAX_PATTERN_LENGTH} characters`)) return;
      try {
        new RegExp(first as string);
      } catch (e) {
        issues.push({ path, message: `invalid regular expression: ${(e as Error).message}` });
        return;
      }
      need(!NESTED_QUANTIFIER.test(first as string), 'regular expression has nested quantifiers (catastrophic backtracking)');
      return;
    case 'numEq':
    case 'numGt':
    case 'numGte':
    case 'numLt':
    case 'numLte':
      need(values.length > 0 && first !== '' && typeof first !== 'boolean' && Number.isFinite(Number(first)), 'must hold a number');
      return;
    case 'before':
    case 'after':
      need(!Number.isNaN(parseInstant(first)), 'must hold an ISO-8601 date or epoch milliseconds');
      return;
    case 'semverEq':
    case 'semverGt':
    case 'semverGte':
    case 'semverLt':
    case 'semverLte':
      need(typeof first === 'string' && parseSemver(first) !== undefined, 'must hold a strict SemVer 2.0 version (no "v" prefix)');
      return;
    case 'inCidr':
      values.forEach((v, i) => {
        if (typeof v !== 'string' || parseCidr(v.trim()) === undefined) issues.push({ path: `${path}[${i}]`, message: 'must be an IPv4 or IPv6 CIDR block or address' });
      });
      need(values.length > 0, 'must hold at least one CIDR block');
      return;
    case 'exists':
      return;
    default:
      need(values.length > 0, 'must hold at least one value');
  }
}

/** Checks a list of conditions; shared by flag rules and cohorts. */
export function validateConditions(conditions: unknown, path: string, issues: Issue[], strict = false): void {
  if (conditions === undefined) return;
  if (!Array.isArray(conditions)) {
    issues.push({ path, message: 'must be an array' });
    return;
  }
  conditions.forEach((c, i) => {
    const at = `${path}[${i}]`;
    if (!isObject(c)) {
      issues.push({ path: at, message: 'must be an object' });
      return;
    }
    if (typeof c.attribute !== 'string' || (strict && c.attribute === '')) issues.push({ path: `${at}.attribute`, message: 'must be a non-empty string' });
    if (typeof c.operator !== 'string') issues.push({ path: `${at}.operator`, message: 'must be a string' });
    else if (strict && !known.has(c.operator)) issues.push({ path: `${at}.operator`, message: `unknown operator "${c.operator}"; one of ${Operators.join(', ')}` });
    if (c.values !== undefined && (!Array.isArray(c.values) || !c.values.every(isPrimitive))) {
      issues.push({ path: `${at}.values`, message: 'must be an array of strings, numbers or booleans' });
    } else if (strict && typeof c.operator === 'string' && known.has(c.operator)) {
      checkValues(c.operator, (c.values as unknown[] | undefined) ?? [], `${at}.values`, issues);
    }
    for (const f of ['negate', 'caseInsensitive']) {
      if (c[f] !== undefined && typeof c[f] !== 'boolean') issues.push({ path: `${at}.${f}`, message: 'must be a boolean' });
    }
  });
}

function checkPercentage(p: unknown, path: string, issues: Issue[], strict: boolean): void {
  if (typeof p !== 'number' || !Number.isFinite(p) || p < 0 || p > 100) issues.push({ path, message: 'must be a number from 0 to 100' });
  else if (strict && decimals(p) > 3) issues.push({ path, message: 'must have at most three decimals' });
}

/** Structural (and, with `strict`, semantic) problems of a flag; empty when it is sound. */
export function validateFlag(flag: unknown, options: ValidateOptions = {}): Issue[] {
  const issues: Issue[] = [];
  const strict = options.strict === true;
  if (!isObject(flag)) return [{ path: '', message: 'must be an object' }];
  if (typeof flag.enabled !== 'boolean') issues.push({ path: 'enabled', message: 'must be a boolean' });
  if (flag.salt !== undefined && typeof flag.salt !== 'string') issues.push({ path: 'salt', message: 'must be a string' });

  const variantKeys = new Set<string>();
  if (flag.variants !== undefined) {
    if (!Array.isArray(flag.variants)) issues.push({ path: 'variants', message: 'must be an array' });
    else
      flag.variants.forEach((v, i) => {
        if (!isObject(v) || typeof v.key !== 'string' || v.key === '') issues.push({ path: `variants[${i}].key`, message: 'must be a non-empty string' });
        else if (variantKeys.has(v.key)) issues.push({ path: `variants[${i}].key`, message: `duplicate variant "${v.key}"` });
        else variantKeys.add(v.key);
        if (isObject(v) && v.weight !== undefined && !isWeight(v.weight)) issues.push({ path: `variants[${i}].weight`, message: 'must be a whole number >= 0' });
      });
  }
  const checkVariant = (name: unknown, path: string) => {
    if (typeof name !== 'string') issues.push({ path, message: 'must be a string' });
    else if (!variantKeys.has(name)) issues.push({ path, message: `names no variant of the flag ("${name}")` });
  };

  if (flag.prerequisites !== undefined) {
    if (!Array.isArray(flag.prerequisites)) issues.push({ path: 'prerequisites', message: 'must be an array' });
    else
      flag.prerequisites.forEach((p, i) => {
        const at = `prerequisites[${i}]`;
        if (!isObject(p) || typeof p.flag !== 'string') return void issues.push({ path: `${at}.flag`, message: 'must be a flag key' });
        if (p.enabled !== undefined && typeof p.enabled !== 'boolean') issues.push({ path: `${at}.enabled`, message: 'must be a boolean' });
        if (p.variants !== undefined && (!Array.isArray(p.variants) || !p.variants.every((v) => typeof v === 'string')))
          issues.push({ path: `${at}.variants`, message: 'must be an array of variant keys' });
        if (strict && options.ruleset && !(p.flag in options.ruleset.flags)) issues.push({ path: `${at}.flag`, message: `no flag "${p.flag}"` });
        if (strict && p.flag === options.key) issues.push({ path: `${at}.flag`, message: 'a flag cannot be its own prerequisite' });
      });
  }

  if (flag.rules !== undefined) {
    if (!Array.isArray(flag.rules)) issues.push({ path: 'rules', message: 'must be an array' });
    else {
      const ids = new Set<string>();
      flag.rules.forEach((r, i) => {
        const at = `rules[${i}]`;
        if (!isObject(r)) return void issues.push({ path: at, message: 'must be an object' });
        if (typeof r.id !== 'string' || (strict && r.id === '')) issues.push({ path: `${at}.id`, message: 'must be a non-empty string' });
        else if (strict && ids.has(r.id)) issues.push({ path: `${at}.id`, message: `duplicate rule id "${r.id}"` });
        else ids.add(r.id);
        validateConditions(r.conditions, `${at}.conditions`, issues, strict);
        if (r.cohorts !== undefined) {
          if (!Array.isArray(r.cohorts) || !r.cohorts.every((c) => typeof c === 'string')) issues.push({ path: `${at}.cohorts`, message: 'must be an array of cohort keys' });
          else if (strict && options.ruleset)
            r.cohorts.forEach((c, j) => {
              if (!(c in options.ruleset!.cohorts)) issues.push({ path: `${at}.cohorts[${j}]`, message: `no cohort "${c}"` });
            });
        }
        if (r.rollout !== undefined) {
          if (!isObject(r.rollout)) issues.push({ path: `${at}.rollout`, message: 'must be an object' });
          else {
            checkPercentage(r.rollout.percentage, `${at}.rollout.percentage`, issues, strict);
            if (r.rollout.bucketBy !== undefined && (typeof r.rollout.bucketBy !== 'string' || (strict && r.rollout.bucketBy === '')))
              issues.push({ path: `${at}.rollout.bucketBy`, message: 'must be a non-empty attribute name' });
            if (r.rollout.salt !== undefined && typeof r.rollout.salt !== 'string') issues.push({ path: `${at}.rollout.salt`, message: 'must be a string' });
          }
        }
        if (r.variant !== undefined) checkVariant(r.variant, `${at}.variant`);
        if (r.split !== undefined) {
          if (!Array.isArray(r.split)) issues.push({ path: `${at}.split`, message: 'must be an array' });
          else
            r.split.forEach((s, j) => {
              if (!isObject(s)) return void issues.push({ path: `${at}.split[${j}]`, message: 'must be an object' });
              checkVariant(s.variant, `${at}.split[${j}].variant`);
              if (!isWeight(s.weight)) issues.push({ path: `${at}.split[${j}].weight`, message: 'must be a whole number >= 0' });
            });
        }
      });
    }
  }
  if (strict && options.ruleset && options.key !== undefined && issues.length === 0) {
    const cycle = findCycle(options.key, flag, options.ruleset);
    if (cycle) issues.push({ path: 'prerequisites', message: `prerequisite cycle: ${cycle.join(' -> ')}` });
  }
  return issues;
}

function findCycle(key: string, flag: Json, ruleset: Ruleset): string[] | undefined {
  const prerequisitesOf = (k: string): string[] => {
    const f = k === key ? flag : (ruleset.flags[k] as unknown as Json | undefined);
    const list = f && Array.isArray(f.prerequisites) ? f.prerequisites : [];
    return list.filter(isObject).map((p) => String(p.flag));
  };
  const path: string[] = [];
  const done = new Set<string>();
  const visit = (k: string): string[] | undefined => {
    if (path.includes(k)) return [...path.slice(path.indexOf(k)), k];
    if (done.has(k)) return undefined;
    path.push(k);
    for (const next of prerequisitesOf(k)) {
      const found = visit(next);
      if (found) return found;
    }
    path.pop();
    done.add(k);
    return undefined;
  };
  return visit(key);
}

/** Structural problems of a cohort; empty when it is sound. */
export function validateCohort(cohort: unknown, strict = false): Issue[] {
  if (!isObject(cohort)) return [{ path: '', message: 'must be an object' }];
  const issues: Issue[] = [];
  for (const list of ['included', 'excluded']) {
    const v = cohort[list];
    if (v !== undefined && (!Array.isArray(v) || !v.every((k) => typeof k === 'string'))) issues.push({ path: list, message: 'must be an array of keys' });
  }
  validateConditions(cohort.conditions, 'conditions', issues, strict);
  return issues;
}
