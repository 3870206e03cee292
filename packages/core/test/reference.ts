/**
 * A second, deliberately simple implementation of DESIGN.md §2 (Evaluation) and
 * notes/core-semantics.md. It exists only to derive expected values for the vectors and the
 * differential property tests, independently of the engine in ../src. Readability over speed:
 * nothing is cached or compiled, every rule is checked the plain way, straight from the text.
 *
 * Do not import this from ../src (and do not import ../src from here, except types).
 */
import murmurhash from 'murmurhash';
import { RE2JS } from 're2js';
import type { ErrorCode, Reason } from '../src/types.js';

/** Only the fields the vectors compare (errorMessage is ignored). */
export interface RefResult {
  enabled: boolean;
  reason: Reason;
  variant?: string;
  value?: unknown;
  ruleId?: string;
  errorCode?: ErrorCode;
}

export interface RefOptions {
  now?: number | { getTime(): number };
}

// ---------------------------------------------------------------------------------------------
// Hashing and bucketing (DESIGN §2 "Hashing and bucketing")

export const SPLIT_SEED = 86028157;

/** MurmurHash3 x86 32-bit of the UTF-8 bytes of `s`, unsigned. */
export function hash(s: string, seed: number): number {
  return murmurhash.v3(new TextEncoder().encode(s), seed);
}

/** bucket = (h % 100) * 1000 + floor(h / 100) % 1000, h = hash(salt + ":" + unit, 0). */
export function referenceBucket(salt: string, unit: string): number {
  const h = hash(salt + ':' + unit, 0);
  return (h % 100) * 1000 + (Math.floor(h / 100) % 1000);
}

/** `unit` is undefined when the bucketing attribute is missing or the empty string. */
export function rolloutIncludes(percentage: number, salt: string, unit: string | undefined): boolean {
  if (percentage >= 100) return true;
  if (unit === undefined) return false;
  return referenceBucket(salt, unit) < Math.round(percentage * 1000);
}

export interface Arm {
  variant: string;
  weight: number;
}

/** Weighted split; undefined when there is no arm or W = 0. */
export function pickVariant(arms: Arm[], salt: string, unit: string | undefined): string | undefined {
  let total = 0;
  for (const arm of arms) total += arm.weight;
  if (total === 0) return undefined;
  if (unit === undefined) {
    for (const arm of arms) if (arm.weight > 0) return arm.variant;
    return undefined;
  }
  const t = hash(salt + ':' + unit, SPLIT_SEED) % total;
  let running = 0;
  for (const arm of arms) {
    running += arm.weight;
    if (running > t) return arm.variant;
  }
  return undefined; // unreachable: running ends at total > t
}

// ---------------------------------------------------------------------------------------------
// Small helpers

type Obj = Record<string, unknown>;

function isObject(x: unknown): x is Obj {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function has(o: Obj, k: string): boolean {
  return Object.prototype.hasOwnProperty.call(o, k);
}

/** A field is absent when it is not an own property or holds undefined. */
function get(o: Obj, k: string): unknown {
  return has(o, k) ? o[k] : undefined;
}

function isScalar(x: unknown): x is string | number | boolean {
  return typeof x === 'string' || typeof x === 'number' || typeof x === 'boolean';
}

/** semantics §1: null, undefined, objects and arrays count as missing. */
function attribute(context: Obj, name: string): string | number | boolean | undefined {
  const v = get(context, name);
  return isScalar(v) ? v : undefined;
}

/** The bucketing unit: String(context[bucketBy]); missing or empty -> undefined. */
function unitOf(context: Obj, bucketBy: string): string | undefined {
  const v = attribute(context, bucketBy);
  if (v === undefined) return undefined;
  const s = String(v);
  return s === '' ? undefined : s;
}

// ---------------------------------------------------------------------------------------------
// Conditions

export const OPERATORS = [
  'in', 'notIn', 'contains', 'startsWith', 'endsWith', 'matches',
  'numEq', 'numGt', 'numGte', 'numLt', 'numLte',
  'before', 'after',
  'semverEq', 'semverGt', 'semverGte', 'semverLt', 'semverLte',
  'inCidr', 'exists',
];

/** semantics §3 */
function toNumber(x: unknown): number {
  if (typeof x === 'number') return x;
  if (typeof x === 'string') return x.trim() === '' ? NaN : Number(x);
  return NaN;
}

function daysInMonth(year: number, month: number): number {
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  return [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]!;
}

/** Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil). */
function daysFromCivil(y: number, m: number, d: number): number {
  y -= m <= 2 ? 1 : 0;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

const ISO =
  /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

/** semantics §4: epoch ms, or NaN when invalid. */
export function toEpochMs(x: unknown): number {
  if (typeof x === 'number') return Number.isFinite(x) ? x : NaN;
  if (typeof x !== 'string') return NaN;
  if (/^-?\d+$/.test(x)) return Number(x);
  const m = ISO.exec(x);
  if (!m) return NaN;
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  const hour = m[4] === undefined ? 0 : Number(m[4]);
  const minute = m[5] === undefined ? 0 : Number(m[5]);
  const second = m[6] === undefined ? 0 : Number(m[6]);
  if (month < 1 || month > 12) return NaN;
  if (day < 1 || day > daysInMonth(year, month)) return NaN;
  if (hour > 23 || minute > 59 || second > 59) return NaN;
  let fractionMs = 0;
  if (m[7] !== undefined) {
    const digits = m[7];
    fractionMs = Number(digits.padEnd(3, '0').slice(0, 3));
    if (digits.length > 3) fractionMs += Number('0.' + digits.slice(3));
  }
  let offsetMinutes = 0;
  const zone = m[8];
  if (zone !== undefined && zone !== 'Z') {
    const sign = zone[0] === '-' ? -1 : 1;
    const rest = zone.slice(1).replace(':', '');
    const oh = Number(rest.slice(0, 2));
    const om = Number(rest.slice(2, 4));
    if (oh > 23 || om > 59) return NaN;
    offsetMinutes = sign * (oh * 60 + om);
  }
  const days = daysFromCivil(year, month, day);
  const localMs = ((days * 24 + hour) * 60 + minute) * 60000 + second * 1000 + fractionMs;
  return localMs - offsetMinutes * 60000;
}

interface SemVer {
  core: [string, string, string];
  pre: string[];
}

const SEMVER =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;

function parseSemver(s: string): SemVer | undefined {
  const m = SEMVER.exec(s);
  if (!m) return undefined;
  return { core: [m[1]!, m[2]!, m[3]!], pre: m[4] === undefined ? [] : m[4].split('.') };
}

/** Compares two decimal strings without leading zeros, of any length. */
function compareNumeric(a: string, b: string): number {
  if (a.length !== b.length) return a.length < b.length ? -1 : 1;
  return a === b ? 0 : a < b ? -1 : 1;
}

/** Precedence per semver.org §11. */
export function compareSemver(a: SemVer, b: SemVer): number {
  for (let i = 0; i < 3; i++) {
    const c = compareNumeric(a.core[i]!, b.core[i]!);
    if (c !== 0) return c;
  }
  if (a.pre.length === 0 && b.pre.length === 0) return 0;
  if (a.pre.length === 0) return 1; // a release ranks above its pre-releases
  if (b.pre.length === 0) return -1;
  for (let i = 0; i < Math.min(a.pre.length, b.pre.length); i++) {
    const x = a.pre[i]!;
    const y = b.pre[i]!;
    const xNum = /^\d+$/.test(x);
    const yNum = /^\d+$/.test(y);
    let c: number;
    if (xNum && yNum) c = compareNumeric(x, y);
    else if (xNum) c = -1; // numeric identifiers rank below alphanumeric ones
    else if (yNum) c = 1;
    else c = x === y ? 0 : x < y ? -1 : 1;
    if (c !== 0) return c;
  }
  return a.pre.length === b.pre.length ? 0 : a.pre.length < b.pre.length ? -1 : 1;
}

function parseIPv4(s: string): bigint | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m) return undefined;
  let n = 0n;
  for (let i = 1; i <= 4; i++) {
    const octet = Number(m[i]);
    if (octet > 255) return undefined;
    n = n * 256n + BigInt(octet);
  }
  return n;
}

function parseIPv6(s: string): bigint | undefined {
  const halves = s.split('::');
  if (halves.length > 2) return undefined;
  const toGroups = (part: string): number[] | undefined => {
    if (part === '') return [];
    const out: number[] = [];
    const pieces = part.split(':');
    for (let i = 0; i < pieces.length; i++) {
      const p = pieces[i]!;
      if (i === pieces.length - 1 && p.includes('.')) {
        const v4 = parseIPv4(p);
        if (v4 === undefined) return undefined;
        out.push(Number(v4 >> 16n), Number(v4 & 0xffffn));
      } else if (/^[0-9a-fA-F]{1,4}$/.test(p)) {
        out.push(parseInt(p, 16));
      } else {
        return undefined;
      }
    }
    return out;
  };
  const head = toGroups(halves[0]!);
  if (head === undefined) return undefined;
  let groups: number[];
  if (halves.length === 2) {
    const tail = toGroups(halves[1]!);
    if (tail === undefined) return undefined;
    // an embedded IPv4 address may only come last
    if (halves[0]!.includes('.')) return undefined;
    const missing = 8 - head.length - tail.length;
    if (missing < 1) return undefined;
    groups = [...head, ...new Array<number>(missing).fill(0), ...tail];
  } else {
    groups = head;
    if (groups.length !== 8) return undefined;
  }
  let n = 0n;
  for (const g of groups) n = n * 65536n + BigInt(g);
  return n;
}

const MAPPED_PREFIX = 0xffffn << 32n;

/** semantics §6: everything is 128-bit; IPv4 a.b.c.d is ::ffff:a.b.c.d. */
function parseAddress(s: string): { value: bigint; v4: boolean } | undefined {
  const v4 = parseIPv4(s);
  if (v4 !== undefined) return { value: MAPPED_PREFIX | v4, v4: true };
  const v6 = parseIPv6(s);
  if (v6 !== undefined) return { value: v6, v4: false };
  return undefined;
}

function parseBlock(s: string): { net: bigint; prefix: number } | undefined {
  const parts = s.split('/');
  if (parts.length > 2) return undefined;
  const address = parseAddress(parts[0]!);
  if (address === undefined) return undefined;
  const max = address.v4 ? 32 : 128;
  let prefix = max;
  if (parts.length === 2) {
    if (!/^\d{1,3}$/.test(parts[1]!)) return undefined;
    prefix = Number(parts[1]);
    if (prefix > max) return undefined;
  }
  return { net: address.value, prefix: address.v4 ? 96 + prefix : prefix };
}

function inBlock(address: bigint, block: { net: bigint; prefix: number }): boolean {
  const shift = BigInt(128 - block.prefix);
  return address >> shift === block.net >> shift;
}

/**
 * `matches` is RE2 (re2js is RE2's JavaScript port) without Unicode classes: whether the pattern
 * has a `\p` or `\P` escape outside `\Q…\E`.
 */
export function usesUnicodeClass(pattern: string): boolean {
  for (let i = 0; i < pattern.length; i++) {
    if (pattern[i] !== '\\') continue;
    const next = pattern[i + 1];
    if (next === 'p' || next === 'P') return true;
    if (next === 'Q') {
      const end = pattern.indexOf('\\E', i + 2);
      if (end < 0) return false;
      i = end;
    }
    i++;
  }
  return false;
}

/** The operator's answer before `negate`; `attr` is present (not missing). */
function applyOperator(op: string, attr: string | number | boolean, values: unknown[], caseInsensitive: boolean): boolean {
  const fold = (s: string): string => (caseInsensitive ? s.toLowerCase() : s);
  switch (op) {
    case 'in':
    case 'notIn':
    case 'contains':
    case 'startsWith':
    case 'endsWith': {
      const a = fold(String(attr));
      const vs = values.map((v) => fold(String(v)));
      if (op === 'in') return vs.some((v) => a === v);
      if (op === 'notIn') return !vs.some((v) => a === v);
      if (op === 'contains') return vs.some((v) => a.includes(v));
      if (op === 'startsWith') return vs.some((v) => a.startsWith(v));
      return vs.some((v) => a.endsWith(v));
    }
    case 'matches': {
      if (values.length === 0) return false;
      const pattern = String(values[0]);
      const text = String(attr);
      if (pattern.length > 256 || text.length > 1024 || usesUnicodeClass(pattern)) return false;
      let re: RE2JS;
      try {
        re = RE2JS.compile(pattern, caseInsensitive ? RE2JS.CASE_INSENSITIVE : 0);
      } catch {
        return false;
      }
      // At most 1000 steps of program. re2js counts two more (its fail and match instructions)
      // and counts some constructs differently; the vectors stay well clear of the limit.
      if (re.programSize() - 2 > 1000) return false;
      return re.test(text);
    }
    case 'numEq':
    case 'numGt':
    case 'numGte':
    case 'numLt':
    case 'numLte': {
      const a = toNumber(attr);
      const b = toNumber(values[0]);
      if (Number.isNaN(a) || Number.isNaN(b)) return false;
      if (op === 'numEq') return a === b;
      if (op === 'numGt') return a > b;
      if (op === 'numGte') return a >= b;
      if (op === 'numLt') return a < b;
      return a <= b;
    }
    case 'before':
    case 'after': {
      const a = toEpochMs(attr);
      const b = toEpochMs(values[0]);
      if (Number.isNaN(a) || Number.isNaN(b)) return false;
      return op === 'before' ? a < b : a > b;
    }
    case 'semverEq':
    case 'semverGt':
    case 'semverGte':
    case 'semverLt':
    case 'semverLte': {
      const a = parseSemver(String(attr));
      const b = values.length > 0 ? parseSemver(String(values[0])) : undefined;
      if (a === undefined || b === undefined) return false;
      const c = compareSemver(a, b);
      if (op === 'semverEq') return c === 0;
      if (op === 'semverGt') return c > 0;
      if (op === 'semverGte') return c >= 0;
      if (op === 'semverLt') return c < 0;
      return c <= 0;
    }
    case 'inCidr': {
      const address = parseAddress(String(attr));
      if (address === undefined) return false;
      for (const v of values) {
        const block = parseBlock(String(v));
        if (block !== undefined && inBlock(address.value, block)) return true;
      }
      return false;
    }
    case 'exists':
      return String(attr) !== '';
    default:
      return false;
  }
}

export function conditionHolds(condition: Obj, context: Obj, now: number): boolean {
  const op = get(condition, 'operator');
  if (typeof op !== 'string' || !OPERATORS.includes(op)) return false; // unknown: false, negated or not
  const name = String(get(condition, 'attribute'));
  const values = (get(condition, 'values') as unknown[] | undefined) ?? [];
  let attr: string | number | boolean | undefined = attribute(context, name);
  let answer: boolean;
  if (attr === undefined && (op === 'before' || op === 'after') && name === 'currentTime') attr = now;
  if (attr === undefined) answer = op === 'notIn';
  else answer = applyOperator(op, attr, values, get(condition, 'caseInsensitive') === true);
  return get(condition, 'negate') === true ? !answer : answer;
}

// ---------------------------------------------------------------------------------------------
// Schema (semantics §10)

function isStringArray(x: unknown): boolean {
  return Array.isArray(x) && x.every((s) => typeof s === 'string');
}

function isWeight(x: unknown): boolean {
  return typeof x === 'number' && Number.isInteger(x) && x >= 0;
}

function optional(o: Obj, k: string, ok: (v: unknown) => boolean): boolean {
  const v = get(o, k);
  return v === undefined || ok(v);
}

function validCondition(c: unknown): boolean {
  return (
    isObject(c) &&
    typeof get(c, 'attribute') === 'string' &&
    typeof get(c, 'operator') === 'string' &&
    optional(c, 'values', (v) => Array.isArray(v) && v.every(isScalar)) &&
    optional(c, 'negate', (v) => typeof v === 'boolean') &&
    optional(c, 'caseInsensitive', (v) => typeof v === 'boolean')
  );
}

function validConditions(x: unknown): boolean {
  return Array.isArray(x) && x.every(validCondition);
}

export function validFlag(flag: unknown): boolean {
  if (!isObject(flag)) return false;
  if (typeof get(flag, 'enabled') !== 'boolean') return false;
  if (!optional(flag, 'salt', (v) => typeof v === 'string')) return false;

  const variants = get(flag, 'variants');
  const names: string[] = [];
  if (variants !== undefined) {
    if (!Array.isArray(variants)) return false;
    for (const v of variants) {
      if (!isObject(v)) return false;
      const key = get(v, 'key');
      if (typeof key !== 'string' || key === '' || names.includes(key)) return false;
      if (!optional(v, 'weight', isWeight)) return false;
      names.push(key);
    }
  }

  const rules = get(flag, 'rules');
  if (rules !== undefined) {
    if (!Array.isArray(rules)) return false;
    for (const r of rules) {
      if (!isObject(r)) return false;
      if (typeof get(r, 'id') !== 'string') return false;
      if (!optional(r, 'conditions', validConditions)) return false;
      if (!optional(r, 'cohorts', isStringArray)) return false;
      const rollout = get(r, 'rollout');
      if (rollout !== undefined) {
        if (!isObject(rollout)) return false;
        const p = get(rollout, 'percentage');
        if (typeof p !== 'number' || !Number.isFinite(p) || p < 0 || p > 100) return false;
        if (!optional(rollout, 'bucketBy', (v) => typeof v === 'string')) return false;
        if (!optional(rollout, 'salt', (v) => typeof v === 'string')) return false;
      }
      if (!optional(r, 'variant', (v) => typeof v === 'string' && names.includes(v))) return false;
      const split = get(r, 'split');
      if (split !== undefined) {
        if (!Array.isArray(split)) return false;
        for (const arm of split) {
          if (!isObject(arm)) return false;
          const variant = get(arm, 'variant');
          if (typeof variant !== 'string' || !names.includes(variant)) return false;
          if (!isWeight(get(arm, 'weight'))) return false;
        }
      }
    }
  }

  const prerequisites = get(flag, 'prerequisites');
  if (prerequisites !== undefined) {
    if (!Array.isArray(prerequisites)) return false;
    for (const p of prerequisites) {
      if (!isObject(p)) return false;
      if (typeof get(p, 'flag') !== 'string') return false;
      if (!optional(p, 'enabled', (v) => typeof v === 'boolean')) return false;
      if (!optional(p, 'variants', isStringArray)) return false;
    }
  }
  return true;
}

export function validCohort(cohort: unknown): boolean {
  return (
    isObject(cohort) &&
    optional(cohort, 'included', isStringArray) &&
    optional(cohort, 'excluded', isStringArray) &&
    optional(cohort, 'conditions', validConditions)
  );
}

// ---------------------------------------------------------------------------------------------
// Evaluation

const MAX_DEPTH = 10;

interface State {
  flags: Obj;
  cohorts: Obj;
  context: Obj;
  now: number;
}

interface Outcome {
  result: RefResult;
  /** A cycle or a nesting deeper than 10 was met: fails every prerequisite back to the root. */
  structural: boolean;
}

const off = (reason: Reason): RefResult => ({ enabled: false, reason });
const failure = (errorCode: ErrorCode): RefResult => ({ enabled: false, reason: 'ERROR', errorCode });

function isMember(state: State, cohortKey: string): boolean {
  if (!has(state.cohorts, cohortKey)) return false; // an unknown cohort contains no one
  const cohort = state.cohorts[cohortKey] as Obj;
  const key = attribute(state.context, 'key');
  const k = key === undefined ? undefined : String(key);
  const excluded = (get(cohort, 'excluded') as string[] | undefined) ?? [];
  const included = (get(cohort, 'included') as string[] | undefined) ?? [];
  const conditions = (get(cohort, 'conditions') as Obj[] | undefined) ?? [];
  if (k !== undefined && excluded.includes(k)) return false;
  if (k !== undefined && included.includes(k)) return true;
  return conditions.length > 0 && conditions.every((c) => conditionHolds(c, state.context, state.now));
}

function withVariant(result: RefResult, flag: Obj, variant: string | undefined): RefResult {
  if (variant === undefined) return result;
  const v = ((get(flag, 'variants') as Obj[] | undefined) ?? []).find((x) => x.key === variant)!;
  const out: RefResult = { ...result, variant };
  if (get(v, 'value') !== undefined) out.value = v.value;
  return out;
}

function flagArms(flag: Obj): Arm[] {
  const variants = (get(flag, 'variants') as Obj[] | undefined) ?? [];
  return variants.map((v) => ({ variant: v.key as string, weight: (get(v, 'weight') as number | undefined) ?? 0 }));
}

function evaluateFlag(state: State, flagKey: string, stack: string[]): Outcome {
  if (!has(state.flags, flagKey)) return { result: off('FLAG_NOT_FOUND'), structural: false };
  const flag = state.flags[flagKey];
  if (isObject(flag) && get(flag, 'enabled') === false) return { result: off('DISABLED'), structural: false };
  if (!validFlag(flag)) return { result: failure('INVALID_FLAG'), structural: false };
  const f = flag as Obj;
  const rules = (get(f, 'rules') as Obj[] | undefined) ?? [];
  for (const rule of rules) {
    for (const c of (get(rule, 'cohorts') as string[] | undefined) ?? []) {
      if (has(state.cohorts, c) && !validCohort(state.cohorts[c])) {
        return { result: failure('INVALID_COHORT'), structural: false };
      }
    }
  }

  // Prerequisites: every one must hold.
  for (const p of (get(f, 'prerequisites') as Obj[] | undefined) ?? []) {
    const target = p.flag as string;
    const expected = (get(p, 'enabled') as boolean | undefined) ?? true;
    const variants = (get(p, 'variants') as string[] | undefined) ?? [];
    const depth = stack.length; // the root sits alone on the stack at depth 0
    if (stack.includes(target) || depth > MAX_DEPTH) {
      return { result: off('PREREQUISITE_FAILED'), structural: true };
    }
    if (!has(state.flags, target)) return { result: off('PREREQUISITE_FAILED'), structural: false };
    const sub = evaluateFlag(state, target, [...stack, target]);
    if (sub.structural) return { result: off('PREREQUISITE_FAILED'), structural: true };
    const holds =
      sub.result.reason !== 'ERROR' &&
      sub.result.enabled === expected &&
      !(expected && variants.length > 0 && !variants.includes(sub.result.variant as string));
    if (!holds) return { result: off('PREREQUISITE_FAILED'), structural: false };
  }

  const flagSalt = (get(f, 'salt') as string | undefined) ?? flagKey;
  if (rules.length === 0) {
    const variant = pickVariant(flagArms(f), flagSalt, unitOf(state.context, 'key'));
    return { result: withVariant({ enabled: true, reason: 'DEFAULT' }, f, variant), structural: false };
  }

  for (const rule of rules) {
    const conditions = (get(rule, 'conditions') as Obj[] | undefined) ?? [];
    if (!conditions.every((c) => conditionHolds(c, state.context, state.now))) continue;
    const cohorts = (get(rule, 'cohorts') as string[] | undefined) ?? [];
    if (!cohorts.every((c) => isMember(state, c))) continue;
    const rollout = (get(rule, 'rollout') as Obj | undefined) ?? {};
    const percentage = (get(rollout, 'percentage') as number | undefined) ?? 100;
    const salt = (get(rollout, 'salt') as string | undefined) ?? flagSalt;
    const unit = unitOf(state.context, (get(rollout, 'bucketBy') as string | undefined) ?? 'key');
    if (!rolloutIncludes(percentage, salt, unit)) continue;

    let variant: string | undefined;
    if (get(rule, 'variant') !== undefined) variant = rule.variant as string;
    else if (get(rule, 'split') !== undefined) variant = pickVariant(rule.split as Arm[], salt, unit);
    else variant = pickVariant(flagArms(f), salt, unit);
    const result: RefResult = { enabled: true, reason: 'RULE_MATCH', ruleId: rule.id as string };
    return { result: withVariant(result, f, variant), structural: false };
  }
  return { result: off('NO_MATCH'), structural: false };
}

export function referenceEvaluate(ruleset: unknown, flagKey: unknown, context: unknown, options?: RefOptions): RefResult {
  try {
    if (!isObject(ruleset) || !isObject(get(ruleset, 'flags'))) return failure('INVALID_INPUT');
    let ctx: Obj;
    if (context === null || context === undefined) ctx = {};
    else if (isObject(context)) ctx = context;
    else return failure('INVALID_INPUT');
    const cohorts = get(ruleset, 'cohorts');
    const nowOption = options?.now;
    const now = nowOption === undefined ? Date.now() : typeof nowOption === 'number' ? nowOption : nowOption.getTime();
    const state: State = {
      flags: get(ruleset, 'flags') as Obj,
      cohorts: isObject(cohorts) ? cohorts : {},
      context: ctx,
      now,
    };
    return evaluateFlag(state, String(flagKey), [String(flagKey)]).result;
  } catch {
    return failure('GENERAL');
  }
}
