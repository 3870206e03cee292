/**
 * Writes packages/core/vectors/vectors.json, the cross-SDK evaluation vectors.
 *
 *   npx tsx packages/core/vectors/generate.ts
 *
 * Every case is run through the reference implementation (../test/reference.ts), never through
 * the engine. Many cases also carry an expectation written by hand (`expect`, or `holds` for a
 * single condition); the generator refuses to write the file when the reference disagrees with
 * one of them. The `HAND-DERIVED` section spells out the hash arithmetic behind its expectations
 * (hashes computed with `murmurhash.v3(new TextEncoder().encode(s), seed)`).
 *
 * Each case: { name, ruleset, flag, context, now?, expected: { enabled, reason, variant?, value?,
 * ruleId?, errorCode? } }. SDKs compare those six fields (errorMessage is not part of the vectors)
 * and pass `{ now }` as the evaluation options when the case has one. A case without `now` does
 * not depend on the clock (checked below).
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { referenceBucket, referenceEvaluate, type RefResult } from '../test/reference.js';

type Obj = Record<string, unknown>;

interface Expected {
  enabled: boolean;
  reason: string;
  variant?: string;
  value?: unknown;
  ruleId?: string;
  errorCode?: string;
}

interface VectorCase {
  name: string;
  ruleset: unknown;
  flag: string;
  context: unknown;
  now?: number;
  expected: Expected;
}

/** 2024-06-15T12:00:00.000Z: the fixed clock of the date cases. */
const NOW = 1718452800000;

const cases: VectorCase[] = [];
let handChecked = 0;

const FIELDS = ['enabled', 'reason', 'variant', 'value', 'ruleId', 'errorCode'] as const;

function project(r: RefResult | Expected): Expected {
  const out: Obj = {};
  const fields = r as unknown as Obj;
  for (const k of FIELDS) if (fields[k] !== undefined) out[k] = fields[k];
  return out as unknown as Expected;
}

function add(name: string, ruleset: unknown, flag: string, context: unknown, opts: { now?: number; expect?: Expected } = {}): void {
  if (cases.some((c) => c.name === name)) throw new Error(`duplicate case name: ${name}`);
  const c: Omit<VectorCase, 'expected'> = { name, ruleset, flag, context };
  if (opts.now !== undefined) c.now = opts.now;
  // Evaluate exactly what lands in the file.
  const json = JSON.parse(JSON.stringify(c)) as VectorCase;
  const run = (now: number | undefined): Expected =>
    project(referenceEvaluate(json.ruleset, json.flag, json.context, now === undefined ? undefined : { now }));
  const expected = run(json.now);
  if (json.now === undefined && (!isDeepStrictEqual(run(0), expected) || !isDeepStrictEqual(run(4102444800000), expected))) {
    throw new Error(`${name}: depends on the clock but has no "now"`);
  }
  if (opts.expect !== undefined) {
    handChecked++;
    if (!isDeepStrictEqual(expected, project(opts.expect))) {
      throw new Error(`${name}: reference says ${JSON.stringify(expected)}, hand-derived ${JSON.stringify(opts.expect)}`);
    }
  }
  cases.push({ ...json, expected });
}

function ruleset(flags: Obj, cohorts: Obj = {}): Obj {
  return { environment: 'vectors', revision: 1, flags, cohorts };
}

const match = (ruleId: string, extra: Partial<Expected> = {}): Expected => ({ enabled: true, reason: 'RULE_MATCH', ruleId, ...extra });
const noMatch: Expected = { enabled: false, reason: 'NO_MATCH' };
const byDefault = (extra: Partial<Expected> = {}): Expected => ({ enabled: true, reason: 'DEFAULT', ...extra });
const disabled: Expected = { enabled: false, reason: 'DISABLED' };
const prereqFailed: Expected = { enabled: false, reason: 'PREREQUISITE_FAILED' };
const notFound: Expected = { enabled: false, reason: 'FLAG_NOT_FOUND' };
const error = (errorCode: string): Expected => ({ enabled: false, reason: 'ERROR', errorCode });

/** A flag `f` with one rule `r1`. */
function oneRule(rule: Obj, extra: Obj = {}): Obj {
  return { key: 'f', enabled: true, ...extra, rules: [{ id: 'r1', ...rule }] };
}

// =============================================================================================
// Operators. Each row: [description, condition, context attributes, holds]. The context gets
// `key: "user-1"` unless the row gives a key. Each row yields two cases: as written, and with
// `negate: true` (the answer flips, except for an unknown operator, which is false either way).

type Row = [string, Obj, Obj, boolean];

function operatorGroup(group: string, rows: Row[], now?: number): void {
  for (const [desc, condition, attrs, holds] of rows) {
    const known = OPERATOR_NAMES.includes(condition.operator as string);
    const context = { key: 'user-1', ...attrs };
    const opts = (expect: Expected) => (now === undefined ? { expect } : { now, expect });
    add(`${group}: ${desc}`, ruleset({ f: oneRule({ conditions: [condition] }) }), 'f', context, opts(holds ? match('r1') : noMatch));
    const negated = { ...condition, negate: true };
    const negHolds = known ? !holds : false;
    add(`${group}: ${desc} [negate]`, ruleset({ f: oneRule({ conditions: [negated] }) }), 'f', context, opts(negHolds ? match('r1') : noMatch));
  }
}

const OPERATOR_NAMES = [
  'in', 'notIn', 'contains', 'startsWith', 'endsWith', 'matches',
  'numEq', 'numGt', 'numGte', 'numLt', 'numLte',
  'before', 'after',
  'semverEq', 'semverGt', 'semverGte', 'semverLt', 'semverLte',
  'inCidr', 'exists',
];

const c = (attribute: string, operator: string, values?: unknown[], more: Obj = {}): Obj =>
  values === undefined ? { attribute, operator, ...more } : { attribute, operator, values, ...more };
const ci = { caseInsensitive: true };

operatorGroup('in', [
  ['value listed', c('country', 'in', ['NL', 'DE']), { country: 'NL' }, true],
  ['second value listed', c('country', 'in', ['NL', 'DE']), { country: 'DE' }, true],
  ['value not listed', c('country', 'in', ['NL', 'DE']), { country: 'FR' }, false],
  ['case differs', c('country', 'in', ['NL']), { country: 'nl' }, false],
  ['case differs, caseInsensitive', c('country', 'in', ['NL'], ci), { country: 'nl' }, true],
  ['caseInsensitive lowercases the values too', c('country', 'in', ['nl'], ci), { country: 'NL' }, true],
  ['caseInsensitive with non-ASCII', c('city', 'in', ['école'], ci), { city: 'ÉCOLE' }, true],
  ['missing attribute', c('country', 'in', ['NL']), {}, false],
  ['null attribute counts as missing', c('country', 'in', ['null']), { country: null }, false],
  ['number attribute, string value', c('age', 'in', ['42']), { age: 42 }, true],
  ['string attribute, number value', c('age', 'in', [42]), { age: '42' }, true],
  ['number 1.5 is "1.5", not "1.50"', c('ratio', 'in', ['1.50']), { ratio: 1.5 }, false],
  ['string "1.5" equals number value 1.5', c('ratio', 'in', [1.5]), { ratio: '1.5' }, true],
  ['boolean attribute, string value', c('beta', 'in', ['true']), { beta: true }, true],
  ['string attribute, boolean value', c('beta', 'in', [true]), { beta: 'true' }, true],
  ['"TRUE" is not true', c('beta', 'in', [true]), { beta: 'TRUE' }, false],
  ['"TRUE" is true caseInsensitive', c('beta', 'in', [true], ci), { beta: 'TRUE' }, true],
  ['false among mixed values', c('beta', 'in', ['x', 7, false]), { beta: false }, true],
  ['zero', c('n', 'in', ['0']), { n: 0 }, true],
  ['empty values list', c('country', 'in', []), { country: 'NL' }, false],
  ['no values field', c('country', 'in'), { country: 'NL' }, false],
  ['empty string attribute equals empty value', c('country', 'in', ['']), { country: '' }, true],
  ['on the key attribute', c('key', 'in', ['user-1', 'user-2']), {}, true],
  ['unicode value', c('city', 'in', ['北京', 'Zürich']), { city: 'Zürich' }, true],
]);

operatorGroup('notIn', [
  ['value not listed', c('country', 'notIn', ['NL', 'DE']), { country: 'FR' }, true],
  ['value listed', c('country', 'notIn', ['NL', 'DE']), { country: 'NL' }, false],
  ['missing attribute is not in any list', c('country', 'notIn', ['NL']), {}, true],
  ['null attribute counts as missing', c('country', 'notIn', ['NL']), { country: null }, true],
  ['case differs', c('country', 'notIn', ['NL']), { country: 'nl' }, true],
  ['case differs, caseInsensitive', c('country', 'notIn', ['NL'], ci), { country: 'nl' }, false],
  ['empty values list', c('country', 'notIn', []), { country: 'NL' }, true],
  ['number attribute listed as string', c('age', 'notIn', ['42']), { age: 42 }, false],
  ['boolean attribute listed as boolean', c('beta', 'notIn', [false]), { beta: false }, false],
]);

operatorGroup('contains', [
  ['substring present', c('email', 'contains', ['@example.com']), { email: 'alice@example.com' }, true],
  ['second value present', c('email', 'contains', ['@other.com', 'example']), { email: 'alice@example.com' }, true],
  ['no value present', c('email', 'contains', ['@other.com']), { email: 'alice@example.com' }, false],
  ['case differs', c('email', 'contains', ['EXAMPLE']), { email: 'alice@example.com' }, false],
  ['case differs, caseInsensitive', c('email', 'contains', ['EXAMPLE'], ci), { email: 'alice@example.com' }, true],
  ['empty value is contained in any present attribute', c('email', 'contains', ['']), { email: 'x' }, true],
  ['empty value, empty attribute', c('email', 'contains', ['']), { email: '' }, true],
  ['empty value, missing attribute', c('email', 'contains', ['']), {}, false],
  ['missing attribute', c('email', 'contains', ['a']), {}, false],
  ['number attribute as string', c('zip', 'contains', ['234']), { zip: 12345 }, true],
  ['boolean attribute as string', c('beta', 'contains', ['als']), { beta: false }, true],
  ['number value as string', c('version', 'contains', [2.5]), { version: 'v2.5-beta' }, true],
  ['empty values list', c('email', 'contains', []), { email: 'alice@example.com' }, false],
  ['CJK substring', c('title', 'contains', ['中文']), { title: '学习中文很有趣' }, true],
  ['emoji substring', c('bio', 'contains', ['🚀']), { bio: 'ship it 🚀 now' }, true],
]);

operatorGroup('startsWith', [
  ['prefix present', c('appVersion', 'startsWith', ['2.']), { appVersion: '2.3.1' }, true],
  ['prefix absent', c('appVersion', 'startsWith', ['3.']), { appVersion: '2.3.1' }, false],
  ['one of several prefixes', c('appVersion', 'startsWith', ['1.', '2.']), { appVersion: '2.3.1' }, true],
  ['case differs', c('name', 'startsWith', ['hello']), { name: 'Hello world' }, false],
  ['case differs, caseInsensitive', c('name', 'startsWith', ['hello'], ci), { name: 'Hello world' }, true],
  ['non-ASCII caseInsensitive', c('name', 'startsWith', ['É'], ci), { name: 'élodie' }, true],
  ['missing attribute', c('name', 'startsWith', ['a']), {}, false],
  ['number attribute and number value', c('zip', 'startsWith', [12]), { zip: 12345 }, true],
  ['value longer than attribute', c('name', 'startsWith', ['abcdef']), { name: 'abc' }, false],
]);

operatorGroup('endsWith', [
  ['suffix present', c('email', 'endsWith', ['.com']), { email: 'alice@example.com' }, true],
  ['suffix absent', c('email', 'endsWith', ['.org']), { email: 'alice@example.com' }, false],
  ['case differs', c('file', 'endsWith', ['.png']), { file: 'PHOTO.PNG' }, false],
  ['case differs, caseInsensitive', c('file', 'endsWith', ['.png'], ci), { file: 'PHOTO.PNG' }, true],
  ['number attribute', c('ratio', 'endsWith', ['.5']), { ratio: 1.5 }, true],
  ['CJK suffix', c('title', 'endsWith', ['测试']), { title: '中文测试' }, true],
  ['missing attribute', c('email', 'endsWith', ['.com']), {}, false],
  ['boolean attribute', c('beta', 'endsWith', ['ue']), { beta: true }, true],
]);

const pattern256 = 'a'.repeat(256);
const pattern257 = 'a'.repeat(257);
operatorGroup('matches', [
  ['anchored pattern matches', c('key', 'matches', ['^user-\\d+$']), { key: 'user-42' }, true],
  ['anchored pattern does not match', c('key', 'matches', ['^user-']), { key: 'admin-42' }, false],
  ['pattern is searched anywhere', c('name', 'matches', ['user']), { name: 'xxuserxx' }, true],
  ['case differs', c('name', 'matches', ['^user']), { name: 'USER-1' }, false],
  ['case differs, caseInsensitive adds the i flag', c('name', 'matches', ['^user'], ci), { name: 'USER-1' }, true],
  ['character class with caseInsensitive', c('name', 'matches', ['^[a-c]+$'], ci), { name: 'ABCabc' }, true],
  ['invalid pattern "(" is false', c('name', 'matches', ['(']), { name: '(' }, false],
  ['invalid pattern "[a-" is false', c('name', 'matches', ['[a-']), { name: '[a-' }, false],
  ['invalid pattern "*a" is false', c('name', 'matches', ['*a']), { name: 'a' }, false],
  ['pattern of exactly 256 chars is allowed', c('name', 'matches', [pattern256]), { name: 'a'.repeat(300) }, true],
  ['pattern of 257 chars is refused', c('name', 'matches', [pattern257]), { name: 'a'.repeat(300) }, false],
  ['only values[0] is the pattern', c('key', 'matches', ['^x', '^user']), { key: 'user-1' }, false],
  ['empty values list', c('name', 'matches', []), { name: 'abc' }, false],
  ['no values field', c('name', 'matches'), { name: 'abc' }, false],
  ['empty pattern matches anything present', c('name', 'matches', ['']), { name: 'abc' }, true],
  ['missing attribute', c('name', 'matches', ['.*']), {}, false],
  ['number attribute as string', c('zip', 'matches', ['^\\d{5}$']), { zip: 12345 }, true],
  ['boolean attribute as string', c('beta', 'matches', ['^tr']), { beta: true }, true],
  ['CJK', c('title', 'matches', ['^中.+试$']), { title: '中文测试' }, true],
  ['emoji literal', c('bio', 'matches', ['🚀 now$']), { bio: 'ship it 🚀 now' }, true],
  ['alternation', c('plan', 'matches', ['^(pro|enterprise)$']), { plan: 'enterprise' }, true],
  ['dot does not match a newline', c('text', 'matches', ['^a.b$']), { text: 'a\nb' }, false],
  // The dialect is RE2's (v1.1 of the spec): these differ from, or do not exist in, ECMAScript.
  ['RE2: (?s) lets dot match a newline', c('text', 'matches', ['(?s)^a.b$']), { text: 'a\nb' }, true],
  ['RE2: inline (?i)', c('name', 'matches', ['(?i)^user']), { name: 'USER-1' }, true],
  ['RE2: (?i:...) applies to its group only', c('name', 'matches', ['^(?i:u)SER']), { name: 'user' }, false],
  ['RE2: (?-i) turns caseInsensitive off', c('name', 'matches', ['(?-i)^user'], ci), { name: 'USER-1' }, false],
  ['RE2: (?m) makes ^ and $ match at lines', c('text', 'matches', ['(?m)^b$']), { text: 'a\nb\nc' }, true],
  ['RE2: $ is the end of the text only', c('text', 'matches', ['a$']), { text: 'a\n' }, false],
  ['RE2: POSIX class', c('name', 'matches', ['^[[:alpha:]]+$']), { name: 'Zoë' }, false],
  ['RE2: POSIX class, ASCII', c('name', 'matches', ['^[[:alpha:][:digit:]]+$']), { name: 'abc123' }, true],
  ['RE2: negated POSIX class', c('name', 'matches', ['^[[:^digit:]]+$']), { name: 'abc' }, true],
  ['RE2: \\x{...} code point', c('bio', 'matches', ['\\x{1F680}']), { bio: 'ship it 🚀 now' }, true],
  ['RE2: dot reads one code point, not a UTF-16 unit', c('bio', 'matches', ['^.$']), { bio: '🚀' }, true],
  ['RE2: \\Q...\\E quotes', c('host', 'matches', ['^\\Qa.b\\E$']), { host: 'axb' }, false],
  ['RE2: \\s is ASCII space only', c('text', 'matches', ['\\s']), { text: 'a\u00a0b' }, false],
  ['RE2: \\w and \\b are ASCII', c('name', 'matches', ['\\bé']), { name: 'é' }, false],
  ['RE2: named group (?P<name>)', c('plan', 'matches', ['^(?P<tier>pro|free)$']), { plan: 'pro' }, true],
  ['RE2: caseInsensitive folds non-ASCII', c('name', 'matches', ['^ÉCOLE$'], ci), { name: 'école' }, true],
  ['RE2: caseInsensitive folds final sigma', c('name', 'matches', ['Σ'], ci), { name: 'ς' }, true],
  ['RE2: a repetition of 1000 is allowed', c('name', 'matches', ['a{1000}']), { name: 'a'.repeat(1000) }, true],
  ['RE2: a repetition over 1000 is invalid', c('name', 'matches', ['a{1001}']), { name: 'a'.repeat(1001) }, false],
  ['RE2: nested repetitions over 1000 are invalid', c('name', 'matches', ['(a{100}){11}']), { name: 'a'.repeat(1100) }, false],
  ['RE2: a program over 1000 steps is invalid', c('name', 'matches', ['(?:abcdefghij){200}']), { name: 'abcdefghij'.repeat(200) }, false],
  ['RE2: back-reference is invalid', c('name', 'matches', ['(a)\\1']), { name: 'aa' }, false],
  ['RE2: lookahead is invalid', c('name', 'matches', ['a(?=b)']), { name: 'ab' }, false],
  ['RE2: lookbehind is invalid', c('name', 'matches', ['(?<=a)b']), { name: 'ab' }, false],
  ['RE2: \\u escape is invalid', c('name', 'matches', ['\\u0041']), { name: 'A' }, false],
  ['RE2: a** is invalid', c('name', 'matches', ['a**']), { name: 'a' }, false],
  ['RE2: [^] is invalid', c('name', 'matches', ['[^]']), { name: 'a' }, false],
  ['Unicode classes are not supported', c('name', 'matches', ['\\pL']), { name: 'a' }, false],
  ['catastrophic for backtracking, plain here', c('email', 'matches', ['^(a+)+$']), { email: 'a'.repeat(40) + '!' }, false],
  ['catastrophic for backtracking, matching', c('email', 'matches', ['^(a|aa)+$']), { email: 'a'.repeat(40) }, true],
  ['attribute of 1024 characters is searched', c('text', 'matches', ['z$']), { text: 'a'.repeat(1023) + 'z' }, true],
  ['attribute over 1024 characters is false', c('text', 'matches', ['z$']), { text: 'a'.repeat(1024) + 'z' }, false],
]);

operatorGroup('numEq', [
  ['equal numbers', c('age', 'numEq', [30]), { age: 30 }, true],
  ['different numbers', c('age', 'numEq', [31]), { age: 30 }, false],
  ['number attribute, string value', c('age', 'numEq', ['30']), { age: 30 }, true],
  ['string attribute, number value', c('age', 'numEq', [30]), { age: '30' }, true],
  ['"30.0" equals 30', c('age', 'numEq', [30]), { age: '30.0' }, true],
  ['decimal', c('score', 'numEq', ['0.30']), { score: 0.3 }, true],
  ['whitespace around digits is trimmed', c('age', 'numEq', [42]), { age: ' 42 ' }, true],
  ['exponent notation', c('n', 'numEq', [1000]), { n: '1e3' }, true],
  ['negative', c('n', 'numEq', ['-7']), { n: -7 }, true],
  ['non-numeric string attribute is NaN', c('age', 'numEq', [1]), { age: 'abc' }, false],
  ['trailing garbage is NaN', c('age', 'numEq', [12]), { age: '12abc' }, false],
  ['empty string attribute is NaN, not 0', c('age', 'numEq', [0]), { age: '' }, false],
  ['blank string attribute is NaN, not 0', c('age', 'numEq', [0]), { age: '   ' }, false],
  ['boolean true attribute is NaN, not 1', c('flag', 'numEq', [1]), { flag: true }, false],
  ['boolean false attribute is NaN, not 0', c('flag', 'numEq', [0]), { flag: false }, false],
  ['non-numeric value is NaN', c('age', 'numEq', ['abc']), { age: 5 }, false],
  ['empty string value is NaN', c('age', 'numEq', ['']), { age: 0 }, false],
  ['boolean value is NaN', c('age', 'numEq', [true]), { age: 1 }, false],
  ['no values', c('age', 'numEq', []), { age: 1 }, false],
  ['missing attribute', c('age', 'numEq', [0]), {}, false],
  ['caseInsensitive is ignored', c('age', 'numEq', [30], ci), { age: 30 }, true],
]);

operatorGroup('numGt', [
  ['greater', c('age', 'numGt', [18]), { age: 30 }, true],
  ['equal is not greater', c('age', 'numGt', [18]), { age: 18 }, false],
  ['smaller', c('age', 'numGt', [18]), { age: 17 }, false],
  ['numeric, not lexical, comparison of strings', c('n', 'numGt', ['9']), { n: '10' }, true],
  ['fractional', c('n', 'numGt', [1.25]), { n: 1.26 }, true],
  ['NaN attribute', c('n', 'numGt', [1]), { n: 'many' }, false],
  ['boolean value', c('n', 'numGt', [true]), { n: 5 }, false],
  ['missing attribute', c('n', 'numGt', [-1000]), {}, false],
]);

operatorGroup('numGte', [
  ['equal', c('age', 'numGte', [18]), { age: 18 }, true],
  ['greater', c('age', 'numGte', [18]), { age: 19 }, true],
  ['smaller', c('age', 'numGte', [18]), { age: 17 }, false],
  ['string on both sides', c('age', 'numGte', ['18']), { age: '18.0' }, true],
  ['NaN value', c('age', 'numGte', ['eighteen']), { age: 18 }, false],
  ['missing attribute', c('age', 'numGte', [0]), {}, false],
]);

operatorGroup('numLt', [
  ['smaller', c('age', 'numLt', [18]), { age: 17 }, true],
  ['equal is not smaller', c('age', 'numLt', [18]), { age: 18 }, false],
  ['negative numbers', c('temp', 'numLt', ['-4.5']), { temp: '-5' }, true],
  ['blank value is NaN', c('age', 'numLt', [' ']), { age: -1 }, false],
  ['missing attribute', c('age', 'numLt', [1e9]), {}, false],
]);

operatorGroup('numLte', [
  ['equal', c('age', 'numLte', [18]), { age: 18 }, true],
  ['smaller', c('age', 'numLte', [18]), { age: 0 }, true],
  ['greater', c('age', 'numLte', [18]), { age: 19 }, false],
  ['boolean attribute', c('age', 'numLte', [100]), { age: false }, false],
  ['missing attribute', c('age', 'numLte', [0]), {}, false],
]);

// Dates. NOW = 2024-06-15T12:00:00Z = 1718452800000 ms; it is the default of `currentTime`.
operatorGroup(
  'before',
  [
    ['earlier date', c('signup', 'before', ['2024-06-01']), { signup: '2024-01-01' }, true],
    ['later date', c('signup', 'before', ['2024-01-01']), { signup: '2024-06-01' }, false],
    ['same instant is not before', c('signup', 'before', ['2024-01-01T00:00:00Z']), { signup: '2024-01-01' }, false],
    ['date-only is midnight UTC', c('signup', 'before', ['2024-01-01T00:00:00.001Z']), { signup: '2024-01-01' }, true],
    ['no offset means UTC', c('signup', 'before', ['2024-01-01T00:00:00.001Z']), { signup: '2024-01-01T00:00:00' }, true],
    ['offset +01:00 is an hour earlier in UTC', c('signup', 'before', ['2024-01-01T00:30Z']), { signup: '2024-01-01T01:00+01:00' }, true],
    ['offset -0100 (no colon) is an hour later in UTC', c('signup', 'before', ['2024-01-01T00:30Z']), { signup: '2024-01-01T00:00:00-0100' }, false],
    ['minutes without seconds', c('signup', 'before', ['2024-01-01T10:00:00Z']), { signup: '2024-01-01T09:59' }, true],
    ['fraction of a second', c('signup', 'before', ['2024-01-01T00:00:00.5Z']), { signup: '2024-01-01T00:00:00.499Z' }, true],
    ['epoch ms number attribute', c('signup', 'before', ['2024-01-02']), { signup: 1704067200000 }, true],
    ['epoch ms number value', c('signup', 'before', [1704067200001]), { signup: '2024-01-01' }, true],
    ['epoch ms number value, equal', c('signup', 'before', [1704067200000]), { signup: '2024-01-01' }, false],
    ['negative epoch digits', c('signup', 'before', ['1970-01-01']), { signup: '-1000' }, true],
    ['currentTime defaults to now: now is before a later date', c('currentTime', 'before', ['2025-01-01']), {}, true],
    ['currentTime defaults to now: now is not before an earlier date', c('currentTime', 'before', ['2024-06-01']), {}, false],
    ['currentTime defaults to now: not before itself', c('currentTime', 'before', [NOW]), {}, false],
    ['currentTime defaults to now: before now + 1 ms', c('currentTime', 'before', [NOW + 1]), {}, true],
    ['currentTime from the context overrides now', c('currentTime', 'before', ['2024-01-01']), { currentTime: '2023-06-01' }, true],
    ['currentTime null in the context defaults to now', c('currentTime', 'before', ['2024-06-16']), { currentTime: null }, true],
    ['invalid currentTime in the context does not default', c('currentTime', 'before', ['2100-01-01']), { currentTime: 'soon' }, false],
    ['other missing attribute does not default to now', c('signup', 'before', ['2100-01-01']), {}, false],
    ['bad date attribute', c('signup', 'before', ['2100-01-01']), { signup: 'not-a-date' }, false],
    ['slashes are not ISO-8601', c('signup', 'before', ['2100-01-01']), { signup: '2024/01/01' }, false],
    ['unpadded fields are not ISO-8601', c('signup', 'before', ['2100-01-01']), { signup: '2024-1-1' }, false],
    ['month 13 is invalid', c('signup', 'before', ['2100-01-01']), { signup: '2024-13-01' }, false],
    ['US format is invalid', c('signup', 'before', ['2100-01-01']), { signup: '01/02/2024' }, false],
    ['empty string attribute', c('signup', 'before', ['2100-01-01']), { signup: '' }, false],
    ['boolean attribute', c('signup', 'before', ['2100-01-01']), { signup: true }, false],
    ['bad date value', c('signup', 'before', ['garbage']), { signup: '2024-01-01' }, false],
    ['no values', c('signup', 'before', []), { signup: '2024-01-01' }, false],
    // The grammar of semantics §4 is exact: nothing beyond it is accepted.
    ['a space instead of T is invalid', c('signup', 'before', ['2100-01-01']), { signup: '2024-01-01 10:00:00Z' }, false],
    ['lowercase t and z are invalid', c('signup', 'before', ['2100-01-01']), { signup: '2024-01-01t10:00:00z' }, false],
    ['leading whitespace is invalid', c('signup', 'before', ['2100-01-01']), { signup: ' 2024-01-01' }, false],
    ['trailing whitespace is invalid', c('signup', 'before', ['2100-01-01']), { signup: '2024-01-01 ' }, false],
    ['a comma before the fraction is invalid', c('signup', 'before', ['2100-01-01']), { signup: '2024-01-01T10:00:00,5Z' }, false],
    ['a space before the offset is invalid', c('signup', 'before', ['2100-01-01']), { signup: '2024-01-01T10:00:00 Z' }, false],
    ['a fraction of ten digits is valid', c('signup', 'before', ['2100-01-01']), { signup: '2024-01-01T10:00:00.1234567890Z' }, true],
    ['years below 100 are not read as 19xx', c('signup', 'before', ['1970-01-01']), { signup: '0099-06-01' }, true],
  ],
  NOW,
);

operatorGroup(
  'after',
  [
    ['later date', c('signup', 'after', ['2024-01-01']), { signup: '2024-06-01' }, true],
    ['earlier date', c('signup', 'after', ['2024-06-01']), { signup: '2024-01-01' }, false],
    ['same instant is not after', c('signup', 'after', ['2024-01-01']), { signup: '2024-01-01T00:00:00.000Z' }, false],
    ['one ms later', c('signup', 'after', ['2023-12-31T23:59:59.999Z']), { signup: '2024-01-01T00:00:00Z' }, true],
    ['no offset means UTC', c('signup', 'after', ['2023-12-31T23:59:59.999Z']), { signup: '2024-01-01T00:00:00' }, true],
    ['equal instants with different offsets', c('signup', 'after', ['2024-01-01T00:00Z']), { signup: '2024-01-01T01:00+01:00' }, false],
    ['offset makes it later', c('signup', 'after', ['2024-01-01T00:00Z']), { signup: '2024-01-01T01:00:00.001+01:00' }, true],
    ['negative offset without colon', c('signup', 'after', ['2024-01-01T00:30:00Z']), { signup: '2024-01-01T00:00:00-0100' }, true],
    ['epoch ms digit string attribute', c('signup', 'after', ['2023-12-31']), { signup: '1704067200000' }, true],
    ['a 4-digit string is epoch ms, not a year', c('signup', 'after', ['1970-01-01T00:00:01Z']), { signup: '2024' }, true],
    ['a 4-digit string is epoch ms, not a year (2)', c('signup', 'after', ['1970-01-01T00:00:03Z']), { signup: '2024' }, false],
    ['currentTime defaults to now: after an earlier date', c('currentTime', 'after', ['2024-06-01']), {}, true],
    ['currentTime defaults to now: not after a later date', c('currentTime', 'after', ['2024-06-15T12:00:00.001Z']), {}, false],
    ['currentTime defaults to now: not after itself', c('currentTime', 'after', ['2024-06-15T12:00:00Z']), {}, false],
    ['currentTime defaults to now: after now - 1 ms', c('currentTime', 'after', [String(NOW - 1)]), {}, true],
    ['currentTime from the context overrides now', c('currentTime', 'after', ['2024-01-01']), { currentTime: '2023-06-01' }, false],
    ['currentTime from the context as epoch ms', c('currentTime', 'after', ['2030-01-01']), { currentTime: 1924992000001 }, true],
    ['other missing attribute', c('signup', 'after', ['1970-01-01']), {}, false],
    ['bad date attribute', c('signup', 'after', ['1970-01-01']), { signup: 'yesterday' }, false],
    ['date with offset but no time is invalid', c('signup', 'after', ['1970-01-01']), { signup: '2024-01-01+01:00' }, false],
    ['bad date value', c('signup', 'after', ['31.12.2023']), { signup: '2024-01-01' }, false],
    ['boolean value', c('signup', 'after', [false]), { signup: '2024-01-01' }, false],
  ],
  NOW,
);

operatorGroup('semverEq', [
  ['equal', c('appVersion', 'semverEq', ['2.3.1']), { appVersion: '2.3.1' }, true],
  ['different patch', c('appVersion', 'semverEq', ['2.3.2']), { appVersion: '2.3.1' }, false],
  ['build metadata is ignored', c('appVersion', 'semverEq', ['1.0.0+build.2']), { appVersion: '1.0.0+build.1' }, true],
  ['build metadata vs none', c('appVersion', 'semverEq', ['1.0.0']), { appVersion: '1.0.0+20240101' }, true],
  ['pre-release with build', c('appVersion', 'semverEq', ['1.0.0-alpha+001']), { appVersion: '1.0.0-alpha' }, true],
  ['pre-release differs from release', c('appVersion', 'semverEq', ['1.0.0']), { appVersion: '1.0.0-rc.1' }, false],
  ['caseInsensitive does not apply to semver', c('appVersion', 'semverEq', ['1.0.0-alpha'], ci), { appVersion: '1.0.0-ALPHA' }, false],
  ['"v" prefix is invalid', c('appVersion', 'semverEq', ['1.0.0']), { appVersion: 'v1.0.0' }, false],
  ['two components are invalid', c('appVersion', 'semverEq', ['1.0.0']), { appVersion: '1.0' }, false],
  ['four components are invalid', c('appVersion', 'semverEq', ['1.0.0']), { appVersion: '1.0.0.0' }, false],
  ['leading zero in a core number is invalid', c('appVersion', 'semverEq', ['1.0.0']), { appVersion: '01.0.0' }, false],
  ['leading zero in a numeric pre-release is invalid', c('appVersion', 'semverEq', ['1.0.0-01']), { appVersion: '1.0.0-01' }, false],
  ['empty pre-release is invalid', c('appVersion', 'semverEq', ['1.0.0-']), { appVersion: '1.0.0-' }, false],
  ['surrounding space is invalid', c('appVersion', 'semverEq', ['1.0.0']), { appVersion: ' 1.0.0' }, false],
  ['invalid value', c('appVersion', 'semverEq', ['1.x']), { appVersion: '1.0.0' }, false],
  ['number attribute is not a version', c('appVersion', 'semverEq', ['1.0.0']), { appVersion: 1 }, false],
  ['missing attribute', c('appVersion', 'semverEq', ['1.0.0']), {}, false],
  ['no values', c('appVersion', 'semverEq', []), { appVersion: '1.0.0' }, false],
]);

// semver.org §11: 1.0.0-alpha < 1.0.0-alpha.1 < 1.0.0-alpha.beta < 1.0.0-beta < 1.0.0-beta.2
//                 < 1.0.0-beta.11 < 1.0.0-rc.1 < 1.0.0
const chain = ['1.0.0-alpha', '1.0.0-alpha.1', '1.0.0-alpha.beta', '1.0.0-beta', '1.0.0-beta.2', '1.0.0-beta.11', '1.0.0-rc.1', '1.0.0'];
const ordered: Row[] = [];
for (let i = 0; i + 1 < chain.length; i++) {
  ordered.push([`${chain[i]} < ${chain[i + 1]}`, c('v', 'semverLt', [chain[i + 1]]), { v: chain[i] }, true]);
  ordered.push([`${chain[i + 1]} > ${chain[i]}`, c('v', 'semverGt', [chain[i]]), { v: chain[i + 1] }, true]);
}
operatorGroup('semver pre-release ordering', ordered);

operatorGroup('semverGt', [
  ['numeric, not lexical: 2.10.0 > 2.9.0', c('v', 'semverGt', ['2.9.0']), { v: '2.10.0' }, true],
  ['major wins', c('v', 'semverGt', ['1.99.99']), { v: '2.0.0' }, true],
  ['equal is not greater', c('v', 'semverGt', ['2.3.1']), { v: '2.3.1' }, false],
  ['release > its pre-release', c('v', 'semverGt', ['1.0.0-rc.1']), { v: '1.0.0' }, true],
  ['pre-release of a higher version > lower release', c('v', 'semverGt', ['1.9.9']), { v: '2.0.0-alpha' }, true],
  ['numeric pre-release ids compare numerically', c('v', 'semverGt', ['1.0.0-alpha.9']), { v: '1.0.0-alpha.10' }, true],
  ['alphanumeric ids compare lexically: alpha10 < alpha9', c('v', 'semverGt', ['1.0.0-alpha9']), { v: '1.0.0-alpha10' }, false],
  ['alphanumeric > numeric id', c('v', 'semverGt', ['1.0.0-1']), { v: '1.0.0-a' }, true],
  ['hyphen inside a pre-release id', c('v', 'semverGt', ['1.0.0-x-x']), { v: '1.0.0-x-y' }, true],
  ['build metadata does not rank', c('v', 'semverGt', ['1.0.0+1']), { v: '1.0.0+2' }, false],
  ['numbers beyond 2^53 compare exactly', c('v', 'semverGt', ['1.0.9007199254740992']), { v: '1.0.9007199254740993' }, true],
  ['invalid attribute', c('v', 'semverGt', ['1.0.0']), { v: '2' }, false],
  ['invalid value', c('v', 'semverGt', ['v1.0.0']), { v: '2.0.0' }, false],
]);

operatorGroup('semverGte', [
  ['equal', c('v', 'semverGte', ['2.3.1']), { v: '2.3.1' }, true],
  ['greater', c('v', 'semverGte', ['2.3.1']), { v: '2.4.0' }, true],
  ['smaller', c('v', 'semverGte', ['2.3.1']), { v: '2.3.0' }, false],
  ['equal ignoring build', c('v', 'semverGte', ['2.3.1+b']), { v: '2.3.1+a' }, true],
  ['pre-release is below the release', c('v', 'semverGte', ['2.3.1']), { v: '2.3.1-rc.1' }, false],
  ['missing attribute', c('v', 'semverGte', ['0.0.0']), {}, false],
]);

operatorGroup('semverLt', [
  ['smaller', c('v', 'semverLt', ['2.0.0']), { v: '1.9.9' }, true],
  ['pre-release is below the release', c('v', 'semverLt', ['1.2.3']), { v: '1.2.3-beta' }, true],
  ['shorter pre-release set is lower', c('v', 'semverLt', ['1.0.0-alpha.1']), { v: '1.0.0-alpha' }, true],
  ['ASCII ordering: uppercase before lowercase', c('v', 'semverLt', ['1.0.0-alpha']), { v: '1.0.0-ALPHA' }, true],
  ['alphanumeric ids compare lexically: alpha10 < alpha9', c('v', 'semverLt', ['1.0.0-alpha9']), { v: '1.0.0-alpha10' }, true],
  ['equal is not smaller', c('v', 'semverLt', ['1.0.0']), { v: '1.0.0' }, false],
  ['invalid attribute', c('v', 'semverLt', ['9.9.9']), { v: 'latest' }, false],
]);

operatorGroup('semverLte', [
  ['equal', c('v', 'semverLte', ['1.0.0']), { v: '1.0.0' }, true],
  ['smaller', c('v', 'semverLte', ['1.0.0']), { v: '0.9.0' }, true],
  ['greater', c('v', 'semverLte', ['1.0.0']), { v: '1.0.1' }, false],
  ['zero version', c('v', 'semverLte', ['0.0.1']), { v: '0.0.0' }, true],
  ['invalid value', c('v', 'semverLte', ['1.0.0-']), { v: '0.0.0' }, false],
]);

operatorGroup('inCidr', [
  ['IPv4 in /8', c('ip', 'inCidr', ['10.0.0.0/8']), { ip: '10.1.2.3' }, true],
  ['IPv4 outside /8', c('ip', 'inCidr', ['11.0.0.0/8']), { ip: '10.1.2.3' }, false],
  ['second block matches', c('ip', 'inCidr', ['192.168.0.0/16', '10.0.0.0/8']), { ip: '10.1.2.3' }, true],
  ['last address of a /24', c('ip', 'inCidr', ['192.168.1.0/24']), { ip: '192.168.1.255' }, true],
  ['first address after a /24', c('ip', 'inCidr', ['192.168.1.0/24']), { ip: '192.168.2.0' }, false],
  ['/31 upper address', c('ip', 'inCidr', ['10.0.0.2/31']), { ip: '10.0.0.3' }, true],
  ['/31 next address', c('ip', 'inCidr', ['10.0.0.2/31']), { ip: '10.0.0.4' }, false],
  ['/32 exact', c('ip', 'inCidr', ['10.0.0.1/32']), { ip: '10.0.0.1' }, true],
  ['/32 other host', c('ip', 'inCidr', ['10.0.0.1/32']), { ip: '10.0.0.2' }, false],
  ['bare IPv4 address is a one-host block', c('ip', 'inCidr', ['10.0.0.1']), { ip: '10.0.0.1' }, true],
  ['bare IPv4 address, other host', c('ip', 'inCidr', ['10.0.0.1']), { ip: '10.0.0.2' }, false],
  ['0.0.0.0/0 holds every IPv4 address', c('ip', 'inCidr', ['0.0.0.0/0']), { ip: '8.8.8.8' }, true],
  ['0.0.0.0/0 does not hold ::1', c('ip', 'inCidr', ['0.0.0.0/0']), { ip: '::1' }, false],
  ['::/0 holds IPv4 addresses too', c('ip', 'inCidr', ['::/0']), { ip: '10.0.0.1' }, true],
  ['IPv6 in /32', c('ip', 'inCidr', ['2001:db8::/32']), { ip: '2001:db8::1' }, true],
  ['IPv6 outside /32', c('ip', 'inCidr', ['2001:db8::/32']), { ip: '2001:db9::1' }, false],
  ['IPv6 uppercase hex', c('ip', 'inCidr', ['2001:db8::/32']), { ip: '2001:DB8::1' }, true],
  ['IPv6 fully written out', c('ip', 'inCidr', ['2001:db8::/32']), { ip: '2001:0db8:0000:0000:0000:0000:0000:0001' }, true],
  ['IPv6 /64 last address', c('ip', 'inCidr', ['2001:db8::/64']), { ip: '2001:db8::ffff:ffff:ffff:ffff' }, true],
  ['IPv6 /64 next network', c('ip', 'inCidr', ['2001:db8::/64']), { ip: '2001:db8:0:1::1' }, false],
  ['bare IPv6 address', c('ip', 'inCidr', ['::1']), { ip: '::1' }, true],
  ['IPv6 /128', c('ip', 'inCidr', ['::1/128']), { ip: '::1' }, true],
  ['bare IPv6 address, other host', c('ip', 'inCidr', ['::1']), { ip: '::2' }, false],
  ['IPv4-mapped IPv6 address in an IPv4 block', c('ip', 'inCidr', ['10.0.0.0/8']), { ip: '::ffff:10.1.2.3' }, true],
  ['IPv4-mapped address in hex form', c('ip', 'inCidr', ['10.0.0.0/8']), { ip: '::ffff:a01:203' }, true],
  ['IPv4-mapped address, uppercase', c('ip', 'inCidr', ['192.168.0.0/16']), { ip: '::FFFF:192.168.1.1' }, true],
  ['IPv4-mapped address outside the IPv4 block', c('ip', 'inCidr', ['10.0.0.0/8']), { ip: '::ffff:11.0.0.1' }, false],
  ['IPv4 address in an IPv4-mapped IPv6 block (/104 = /8)', c('ip', 'inCidr', ['::ffff:10.0.0.0/104']), { ip: '10.1.2.3' }, true],
  ['IPv4 address not in an unrelated IPv6 block', c('ip', 'inCidr', ['2001:db8::/32']), { ip: '10.1.2.3' }, false],
  ['invalid blocks are ignored', c('ip', 'inCidr', ['garbage', '10.0.0.0/8']), { ip: '10.1.1.1' }, true],
  ['only invalid blocks', c('ip', 'inCidr', ['garbage']), { ip: '10.1.1.1' }, false],
  ['IPv4 prefix over 32 is invalid', c('ip', 'inCidr', ['10.0.0.0/33']), { ip: '10.0.0.1' }, false],
  ['IPv6 prefix over 128 is invalid', c('ip', 'inCidr', ['2001:db8::/129']), { ip: '2001:db8::1' }, false],
  ['two slashes are invalid', c('ip', 'inCidr', ['10.0.0.0/8/8']), { ip: '10.0.0.1' }, false],
  ['octet over 255 in the block is invalid', c('ip', 'inCidr', ['300.0.0.0/8']), { ip: '44.0.0.1' }, false],
  ['octet over 255 in the attribute', c('ip', 'inCidr', ['10.0.0.0/8']), { ip: '10.0.0.256' }, false],
  ['three octets', c('ip', 'inCidr', ['10.0.0.0/8']), { ip: '10.0.0' }, false],
  ['not an address', c('ip', 'inCidr', ['0.0.0.0/0']), { ip: 'not-an-ip' }, false],
  ['two "::" are invalid', c('ip', 'inCidr', ['::/0']), { ip: '1::2::3' }, false],
  ['attribute with a prefix is not an address', c('ip', 'inCidr', ['10.0.0.0/8']), { ip: '10.0.0.1/32' }, false],
  ['number attribute is not an address', c('ip', 'inCidr', ['0.0.0.0/0']), { ip: 167772161 }, false],
  ['empty string attribute', c('ip', 'inCidr', ['0.0.0.0/0']), { ip: '' }, false],
  ['missing attribute', c('ip', 'inCidr', ['0.0.0.0/0']), {}, false],
  ['empty values list', c('ip', 'inCidr', []), { ip: '10.0.0.1' }, false],
]);

operatorGroup('exists', [
  ['non-empty string', c('plan', 'exists'), { plan: 'pro' }, true],
  ['empty string', c('plan', 'exists'), { plan: '' }, false],
  ['missing', c('plan', 'exists'), {}, false],
  ['null', c('plan', 'exists'), { plan: null }, false],
  ['zero', c('count', 'exists'), { count: 0 }, true],
  ['false', c('beta', 'exists'), { beta: false }, true],
  ['whitespace', c('plan', 'exists'), { plan: ' ' }, true],
  ['values are ignored', c('plan', 'exists', ['other']), { plan: 'pro' }, true],
]);

operatorGroup('unknown operator', [
  ['unknown name', c('country', 'regexMatch', ['NL']), { country: 'NL' }, false],
  ['wrong case of a known name', c('country', 'IN', ['NL']), { country: 'NL' }, false],
  ['unknown operator on a missing attribute', c('country', 'equals', ['NL']), {}, false],
]);

// Several conditions on one rule: all must hold.
{
  const two = [c('country', 'in', ['NL']), c('plan', 'in', ['pro'])];
  const f = ruleset({ f: oneRule({ conditions: two }) });
  add('conditions: all hold', f, 'f', { key: 'u', country: 'NL', plan: 'pro' }, { expect: match('r1') });
  add('conditions: one fails', f, 'f', { key: 'u', country: 'NL', plan: 'free' }, { expect: noMatch });
  add('conditions: empty list always holds', ruleset({ f: oneRule({ conditions: [] }) }), 'f', { key: 'u' }, { expect: match('r1') });
  add('conditions: an unknown operator fails the rule', ruleset({ f: oneRule({ conditions: [two[0], c('plan', 'like', ['pro'])] }) }), 'f', { key: 'u', country: 'NL', plan: 'pro' }, { expect: noMatch });
  const rules = ruleset({
    f: {
      key: 'f',
      enabled: true,
      rules: [
        { id: 'nl', conditions: [c('country', 'in', ['NL'])] },
        { id: 'de', conditions: [c('country', 'in', ['DE'])] },
        { id: 'pro', conditions: [c('plan', 'in', ['pro'])] },
      ],
    },
  });
  add('rules: first matching rule wins', rules, 'f', { key: 'u', country: 'NL', plan: 'pro' }, { expect: match('nl') });
  add('rules: later rule matches', rules, 'f', { key: 'u', country: 'DE', plan: 'pro' }, { expect: match('de') });
  add('rules: third rule matches', rules, 'f', { key: 'u', country: 'FR', plan: 'pro' }, { expect: match('pro') });
  add('rules: no rule matches', rules, 'f', { key: 'u', country: 'FR', plan: 'free' }, { expect: noMatch });
  add('rules: no rules is on for everyone', ruleset({ f: { key: 'f', enabled: true, rules: [] } }), 'f', { key: 'u' }, { expect: byDefault() });
  add('rules: no rules field is on for everyone', ruleset({ f: { key: 'f', enabled: true } }), 'f', {}, { expect: byDefault() });
  add('context: null means {}', ruleset({ f: { key: 'f', enabled: true } }), 'f', null, { expect: byDefault() });
  add('context: null means {} (rule on a missing attribute)', ruleset({ f: oneRule({ conditions: [c('country', 'notIn', ['NL'])] }) }), 'f', null, { expect: match('r1') });
}

// =============================================================================================
// Cohorts

{
  const cohorts = {
    beta: { key: 'beta', included: ['user-1', 'user-2', 'user-9'], excluded: ['user-9'] },
    dutch: { key: 'dutch', conditions: [c('country', 'in', ['NL'])], excluded: ['user-666'] },
    'dutch-pros': { key: 'dutch-pros', conditions: [c('country', 'in', ['NL']), c('plan', 'in', ['pro'])] },
    'list-or-rule': { key: 'list-or-rule', included: ['vip-1'], conditions: [c('plan', 'in', ['enterprise'])] },
    'list-only': { key: 'list-only', included: ['user-1'], conditions: [] },
    nobody: { key: 'nobody' },
    'recent-signups': { key: 'recent-signups', conditions: [c('signup', 'after', ['2024-06-01'])] },
    'current-time': { key: 'current-time', conditions: [c('currentTime', 'after', ['2024-06-01'])] },
    'not-dutch': { key: 'not-dutch', conditions: [c('country', 'in', ['nl'], { negate: true, caseInsensitive: true })] },
    'broken-but-unused': { key: 'broken-but-unused', included: 'user-1' },
  };
  const withCohorts = (names: string[]) => ruleset({ f: oneRule({ cohorts: names }) }, cohorts);
  add('cohort: key in included', withCohorts(['beta']), 'f', { key: 'user-1' }, { expect: match('r1') });
  add('cohort: key not in included', withCohorts(['beta']), 'f', { key: 'user-3' }, { expect: noMatch });
  add('cohort: excluded beats included', withCohorts(['beta']), 'f', { key: 'user-9' }, { expect: noMatch });
  add('cohort: missing key is not in included', withCohorts(['beta']), 'f', {}, { expect: noMatch });
  add('cohort: conditions hold', withCohorts(['dutch']), 'f', { key: 'user-5', country: 'NL' }, { expect: match('r1') });
  add('cohort: conditions fail', withCohorts(['dutch']), 'f', { key: 'user-5', country: 'BE' }, { expect: noMatch });
  add('cohort: excluded beats conditions', withCohorts(['dutch']), 'f', { key: 'user-666', country: 'NL' }, { expect: noMatch });
  add('cohort: conditions hold without a key', withCohorts(['dutch']), 'f', { country: 'NL' }, { expect: match('r1') });
  add('cohort: all conditions must hold', withCohorts(['dutch-pros']), 'f', { key: 'u', country: 'NL', plan: 'free' }, { expect: noMatch });
  add('cohort: all conditions hold', withCohorts(['dutch-pros']), 'f', { key: 'u', country: 'NL', plan: 'pro' }, { expect: match('r1') });
  add('cohort: included without the conditions', withCohorts(['list-or-rule']), 'f', { key: 'vip-1', plan: 'free' }, { expect: match('r1') });
  add('cohort: conditions without being included', withCohorts(['list-or-rule']), 'f', { key: 'someone', plan: 'enterprise' }, { expect: match('r1') });
  add('cohort: neither included nor conditions', withCohorts(['list-or-rule']), 'f', { key: 'someone', plan: 'free' }, { expect: noMatch });
  add('cohort: empty conditions contain no one beyond included', withCohorts(['list-only']), 'f', { key: 'user-2' }, { expect: noMatch });
  add('cohort: empty conditions, included key', withCohorts(['list-only']), 'f', { key: 'user-1' }, { expect: match('r1') });
  add('cohort: no lists and no conditions contains no one', withCohorts(['nobody']), 'f', { key: 'user-1' }, { expect: noMatch });
  add('cohort: unknown cohort contains no one', withCohorts(['no-such-cohort']), 'f', { key: 'user-1' }, { expect: noMatch });
  add('cohort: unknown cohort named like an Object.prototype member', withCohorts(['toString']), 'f', { key: 'user-1' }, { expect: noMatch });
  add('cohort: unknown cohort "constructor"', withCohorts(['constructor']), 'f', { key: 'user-1' }, { expect: noMatch });
  add('cohort: several cohorts, all contain the user', withCohorts(['beta', 'dutch']), 'f', { key: 'user-1', country: 'NL' }, { expect: match('r1') });
  add('cohort: several cohorts, one does not', withCohorts(['beta', 'dutch']), 'f', { key: 'user-1', country: 'DE' }, { expect: noMatch });
  add('cohort: several cohorts, one unknown', withCohorts(['beta', 'missing']), 'f', { key: 'user-1' }, { expect: noMatch });
  add('cohort: empty cohorts list holds', withCohorts([]), 'f', { key: 'user-1' }, { expect: match('r1') });
  add('cohort: conditions with negate and caseInsensitive', withCohorts(['not-dutch']), 'f', { key: 'u', country: 'NL' }, { expect: noMatch });
  add('cohort: conditions with negate and caseInsensitive (2)', withCohorts(['not-dutch']), 'f', { key: 'u', country: 'BE' }, { expect: match('r1') });
  add('cohort: date condition', withCohorts(['recent-signups']), 'f', { key: 'u', signup: '2024-06-10T08:00:00Z' }, { now: NOW, expect: match('r1') });
  add('cohort: currentTime condition uses now', withCohorts(['current-time']), 'f', { key: 'u' }, { now: NOW, expect: match('r1') });
  add('cohort: an invalid cohort nobody refers to is no error', withCohorts(['beta']), 'f', { key: 'user-1' }, { expect: match('r1') });
  const twoRules = ruleset(
    {
      f: {
        key: 'f',
        enabled: true,
        rules: [
          { id: 'beta-rule', cohorts: ['beta'], variant: 'on-beta' },
          { id: 'dutch-rule', cohorts: ['dutch'] },
        ],
        variants: [{ key: 'on-beta', value: 'beta build' }],
      },
    },
    cohorts,
  );
  add('cohort: falls through to the next rule', twoRules, 'f', { key: 'user-7', country: 'NL' }, { expect: match('dutch-rule') });
  add('cohort: first rule with its variant', twoRules, 'f', { key: 'user-2', country: 'NL' }, { expect: match('beta-rule', { variant: 'on-beta', value: 'beta build' }) });
  add(
    'cohort: cohort and condition on one rule',
    ruleset({ f: oneRule({ conditions: [c('plan', 'in', ['pro'])], cohorts: ['beta'] }) }, cohorts),
    'f',
    { key: 'user-1', plan: 'free' },
    { expect: noMatch },
  );

  const broken = (cohort: unknown) => ruleset({ f: oneRule({ cohorts: ['bad'] }) }, { bad: cohort });
  add('cohort error: included is not an array', broken({ key: 'bad', included: 'user-1' }), 'f', { key: 'user-1' }, { expect: error('INVALID_COHORT') });
  add('cohort error: included holds numbers', broken({ key: 'bad', included: [1, 2] }), 'f', { key: 'user-1' }, { expect: error('INVALID_COHORT') });
  add('cohort error: excluded is an object', broken({ key: 'bad', excluded: { 'user-1': true } }), 'f', { key: 'user-1' }, { expect: error('INVALID_COHORT') });
  add('cohort error: condition attribute is not a string', broken({ key: 'bad', conditions: [{ attribute: 5, operator: 'in', values: ['x'] }] }), 'f', { key: 'user-1' }, { expect: error('INVALID_COHORT') });
  add('cohort error: conditions is not an array', broken({ key: 'bad', conditions: { attribute: 'a', operator: 'in' } }), 'f', { key: 'user-1' }, { expect: error('INVALID_COHORT') });
  add('cohort error: cohort is a string', broken('user-1'), 'f', { key: 'user-1' }, { expect: error('INVALID_COHORT') });
  add('cohort error: a killed flag still answers DISABLED', ruleset({ f: { ...oneRule({ cohorts: ['bad'] }), enabled: false } }, { bad: 42 }), 'f', { key: 'user-1' }, { expect: disabled });
}

// =============================================================================================
// Prerequisites

{
  const on = (extra: Obj = {}) => ({ enabled: true, ...extra });
  const flags: Obj = {
    'p-on': { key: 'p-on', ...on() },
    'p-off': { key: 'p-off', enabled: false },
    'p-dutch': { key: 'p-dutch', ...on({ rules: [{ id: 'nl', conditions: [c('country', 'in', ['NL'])] }] }) },
    'p-blue': {
      key: 'p-blue',
      ...on({ variants: [{ key: 'blue', value: 1 }, { key: 'green', value: 2 }], rules: [{ id: 'r', variant: 'blue' }] }),
    },
    'p-broken': { key: 'p-broken', enabled: true, rules: [{ id: 'r', rollout: { percentage: 150 } }] },
    'p-broken-killed': { key: 'p-broken-killed', enabled: false, rules: 'garbage' },
    'p-bad-cohort': { key: 'p-bad-cohort', enabled: true, rules: [{ id: 'r', cohorts: ['bad'] }] },
    'p-needs-missing': { key: 'p-needs-missing', enabled: true, prerequisites: [{ flag: 'missing' }] },
    'p-needs-broken': { key: 'p-needs-broken', enabled: true, prerequisites: [{ flag: 'p-broken' }] },
  };
  const cohorts = { bad: { key: 'bad', included: 'oops' } };
  const needing = (prerequisites: unknown[], extra: Obj = {}) =>
    ruleset({ ...flags, f: { key: 'f', enabled: true, prerequisites, ...extra } }, cohorts);
  const ctx = { key: 'user-1', country: 'NL' };
  add('prerequisite: on, expected on', needing([{ flag: 'p-on' }]), 'f', ctx, { expect: byDefault() });
  add('prerequisite: on, expected on explicitly', needing([{ flag: 'p-on', enabled: true }]), 'f', ctx, { expect: byDefault() });
  add('prerequisite: off, expected on', needing([{ flag: 'p-off' }]), 'f', ctx, { expect: prereqFailed });
  add('prerequisite: off (disabled), expected off', needing([{ flag: 'p-off', enabled: false }]), 'f', ctx, { expect: byDefault() });
  add('prerequisite: on, expected off', needing([{ flag: 'p-on', enabled: false }]), 'f', ctx, { expect: prereqFailed });
  add('prerequisite: rule matches for this context', needing([{ flag: 'p-dutch' }]), 'f', ctx, { expect: byDefault() });
  add('prerequisite: no rule matches for this context', needing([{ flag: 'p-dutch' }]), 'f', { key: 'user-1', country: 'BE' }, { expect: prereqFailed });
  add('prerequisite: NO_MATCH counts as off', needing([{ flag: 'p-dutch', enabled: false }]), 'f', { key: 'user-1', country: 'BE' }, { expect: byDefault() });
  add('prerequisite: serves an expected variant', needing([{ flag: 'p-blue', variants: ['blue'] }]), 'f', ctx, { expect: byDefault() });
  add('prerequisite: serves one of the expected variants', needing([{ flag: 'p-blue', variants: ['green', 'blue'] }]), 'f', ctx, { expect: byDefault() });
  add('prerequisite: serves another variant', needing([{ flag: 'p-blue', variants: ['green'] }]), 'f', ctx, { expect: prereqFailed });
  add('prerequisite: empty variants list is no constraint', needing([{ flag: 'p-blue', variants: [] }]), 'f', ctx, { expect: byDefault() });
  add('prerequisite: on without a variant fails a variants constraint', needing([{ flag: 'p-on', variants: ['blue'] }]), 'f', ctx, { expect: prereqFailed });
  add('prerequisite: variants ignored when expected off', needing([{ flag: 'p-off', enabled: false, variants: ['blue'] }]), 'f', ctx, { expect: byDefault() });
  add('prerequisite: missing flag fails', needing([{ flag: 'missing' }]), 'f', ctx, { expect: prereqFailed });
  add('prerequisite: missing flag fails even when expected off', needing([{ flag: 'missing', enabled: false }]), 'f', ctx, { expect: prereqFailed });
  add('prerequisite: flag named like an Object.prototype member is missing', needing([{ flag: 'hasOwnProperty', enabled: false }]), 'f', ctx, { expect: prereqFailed });
  add('prerequisite: one of several fails', needing([{ flag: 'p-on' }, { flag: 'p-off' }]), 'f', ctx, { expect: prereqFailed });
  add('prerequisite: several all hold', needing([{ flag: 'p-on' }, { flag: 'p-off', enabled: false }, { flag: 'p-blue', variants: ['blue'] }]), 'f', ctx, { expect: byDefault() });
  add('prerequisite: empty list', needing([]), 'f', ctx, { expect: byDefault() });
  add('prerequisite: ERROR fails when expected on', needing([{ flag: 'p-broken' }]), 'f', ctx, { expect: prereqFailed });
  add('prerequisite: ERROR fails even when expected off', needing([{ flag: 'p-broken', enabled: false }]), 'f', ctx, { expect: prereqFailed });
  add('prerequisite: INVALID_COHORT error fails it', needing([{ flag: 'p-bad-cohort', enabled: false }]), 'f', ctx, { expect: prereqFailed });
  add('prerequisite: a killed damaged flag is just off', needing([{ flag: 'p-broken-killed', enabled: false }]), 'f', ctx, { expect: byDefault() });
  add('prerequisite: transitive, missing flag two levels down', needing([{ flag: 'p-needs-missing' }]), 'f', ctx, { expect: prereqFailed });
  add('prerequisite: transitive, missing flag two levels down, parent expects off', needing([{ flag: 'p-needs-missing', enabled: false }]), 'f', ctx, { expect: byDefault() });
  add('prerequisite: transitive, ERROR two levels down, parent expects off', needing([{ flag: 'p-needs-broken', enabled: false }]), 'f', ctx, { expect: byDefault() });
  add('prerequisite: the prerequisite itself reports PREREQUISITE_FAILED', needing([]), 'p-needs-missing', ctx, { expect: prereqFailed });
  add('prerequisite: then the rules decide', needing([{ flag: 'p-on' }], { rules: [{ id: 'nl', conditions: [c('country', 'in', ['NL'])] }] }), 'f', ctx, { expect: match('nl') });
  add('prerequisite: then the rules decide (no match)', needing([{ flag: 'p-on' }], { rules: [{ id: 'de', conditions: [c('country', 'in', ['DE'])] }] }), 'f', ctx, { expect: noMatch });
  add('prerequisite: the kill switch beats a failing prerequisite', needing([{ flag: 'missing' }], { enabled: false }), 'f', ctx, { expect: disabled });
  add(
    'prerequisite: diamond is not a cycle',
    ruleset({
      f: { key: 'f', enabled: true, prerequisites: [{ flag: 'a' }, { flag: 'b' }] },
      a: { key: 'a', enabled: true, prerequisites: [{ flag: 'c' }] },
      b: { key: 'b', enabled: true, prerequisites: [{ flag: 'c' }] },
      c: { key: 'c', enabled: true },
    }),
    'f',
    ctx,
    { expect: byDefault() },
  );

  // Cycles: a flag met again while it is being evaluated fails every prerequisite on the path.
  const cycle = ruleset({
    a: { key: 'a', enabled: true, prerequisites: [{ flag: 'b' }] },
    b: { key: 'b', enabled: true, prerequisites: [{ flag: 'a' }] },
  });
  add('prerequisite cycle: A -> B -> A, evaluating A', cycle, 'a', ctx, { expect: prereqFailed });
  add('prerequisite cycle: A -> B -> A, evaluating B', cycle, 'b', ctx, { expect: prereqFailed });
  const cycleOff = ruleset({
    a: { key: 'a', enabled: true, prerequisites: [{ flag: 'b', enabled: false }] },
    b: { key: 'b', enabled: true, prerequisites: [{ flag: 'a' }] },
  });
  add('prerequisite cycle: fails even where the parent expects off', cycleOff, 'a', ctx, { expect: prereqFailed });
  add('prerequisite cycle: self-cycle', ruleset({ a: { key: 'a', enabled: true, prerequisites: [{ flag: 'a' }] } }), 'a', ctx, { expect: prereqFailed });
  add('prerequisite cycle: self-cycle expecting off', ruleset({ a: { key: 'a', enabled: true, prerequisites: [{ flag: 'a', enabled: false }] } }), 'a', ctx, { expect: prereqFailed });
  add(
    'prerequisite cycle: below the root fails the root too, whatever it expects',
    ruleset({
      root: { key: 'root', enabled: true, prerequisites: [{ flag: 'a', enabled: false }] },
      a: { key: 'a', enabled: true, prerequisites: [{ flag: 'b' }] },
      b: { key: 'b', enabled: true, prerequisites: [{ flag: 'a' }] },
    }),
    'root',
    ctx,
    { expect: prereqFailed },
  );
  add(
    'prerequisite cycle: a killed flag is not evaluated further, so no cycle',
    ruleset({
      a: { key: 'a', enabled: true, prerequisites: [{ flag: 'b', enabled: false }] },
      b: { key: 'b', enabled: false, prerequisites: [{ flag: 'a' }] },
    }),
    'a',
    ctx,
    { expect: byDefault() },
  );
  add('prerequisite cycle: the kill switch beats a cycle', ruleset({ a: { key: 'a', enabled: false, prerequisites: [{ flag: 'a' }] } }), 'a', ctx, { expect: disabled });

  // Depth: the root is depth 0, its prerequisites depth 1, ...; depth 10 is fine, 11 is not.
  const chainOf = (n: number, prefix: string): Obj => {
    const out: Obj = {};
    for (let i = 0; i < n; i++) {
      out[`${prefix}${i}`] = { key: `${prefix}${i}`, enabled: true, ...(i + 1 < n ? { prerequisites: [{ flag: `${prefix}${i + 1}` }] } : {}) };
    }
    return out;
  };
  const chain11 = ruleset(chainOf(11, 'c')); // c0 (depth 0) -> ... -> c10 (depth 10)
  add('prerequisite depth: exactly 10 levels is fine', chain11, 'c0', ctx, { expect: byDefault() });
  const chain12 = ruleset(chainOf(12, 'd')); // d0 (depth 0) -> ... -> d11 (depth 11)
  add('prerequisite depth: 11 levels fail', chain12, 'd0', ctx, { expect: prereqFailed });
  add('prerequisite depth: the same chain from its second flag is 10 levels', chain12, 'd1', ctx, { expect: byDefault() });
  const chain12Off = chainOf(12, 'e');
  (chain12Off.e0 as Obj).prerequisites = [{ flag: 'e1', enabled: false }];
  add('prerequisite depth: too deep fails whatever the root expects', ruleset(chain12Off), 'e0', ctx, { expect: prereqFailed });
  const chain11Rule = chainOf(11, 'g');
  (chain11Rule.g10 as Obj).rules = [{ id: 'nl', conditions: [c('country', 'in', ['NL'])] }];
  add('prerequisite depth: 10 levels, the deepest flag on by rule', ruleset(chain11Rule), 'g0', ctx, { expect: byDefault() });
  add('prerequisite depth: 10 levels, the deepest flag off by rule', ruleset(chain11Rule), 'g0', { key: 'user-1', country: 'BE' }, { expect: prereqFailed });
}

// =============================================================================================
// Variants and splits

const colors = [
  { key: 'blue', value: { color: '#00f' }, weight: 500 },
  { key: 'green', value: { color: '#0f0' }, weight: 500 },
];
const users = Array.from({ length: 12 }, (_, i) => `user-${i + 1}`);
{
  const rv = ruleset({ f: oneRule({ variant: 'green' }, { variants: colors }) });
  add('variant: rule names a variant', rv, 'f', { key: 'user-1' }, { expect: match('r1', { variant: 'green', value: { color: '#0f0' } }) });
  add('variant: rule variant needs no unit', rv, 'f', {}, { expect: match('r1', { variant: 'green', value: { color: '#0f0' } }) });
  add(
    'variant: rule variant wins over the rule split',
    ruleset({ f: oneRule({ variant: 'blue', split: [{ variant: 'green', weight: 1 }] }, { variants: colors }) }),
    'f',
    { key: 'user-1' },
    { expect: match('r1', { variant: 'blue', value: { color: '#00f' } }) },
  );
  add(
    'variant: a variant without a value has no value',
    ruleset({ f: oneRule({ variant: 'plain' }, { variants: [{ key: 'plain' }] }) }),
    'f',
    { key: 'user-1' },
    { expect: match('r1', { variant: 'plain' }) },
  );
  const values = [
    { key: 'str', value: 'hello' },
    { key: 'num', value: 42.5 },
    { key: 'zero', value: 0 },
    { key: 'no', value: false },
    { key: 'empty', value: '' },
    { key: 'arr', value: [1, 'two', { three: [3] }] },
    { key: 'deep', value: { a: { b: { c: [true, false] } }, s: 'é中🚀' } },
  ];
  for (const v of values) {
    add(`variant: value of type ${v.key}`, ruleset({ f: oneRule({ variant: v.key }, { variants: values }) }), 'f', { key: 'u' }, { expect: match('r1', { variant: v.key, value: v.value }) });
  }
  add('variant: off results carry no variant', ruleset({ f: oneRule({ variant: 'blue', conditions: [c('x', 'exists')] }, { variants: colors }) }), 'f', { key: 'u' }, { expect: noMatch });
  add('variant: disabled results carry no variant', ruleset({ f: { key: 'f', enabled: false, variants: colors } }), 'f', { key: 'u' }, { expect: disabled });
  add('variant: no variants means no variant', ruleset({ f: oneRule({}) }), 'f', { key: 'u' }, { expect: match('r1') });
  add('variant: DEFAULT with no variants', ruleset({ f: { key: 'f', enabled: true } }), 'f', { key: 'u' }, { expect: byDefault() });

  // Weighted splits (expected from the reference).
  const ruleSplit = ruleset({ f: oneRule({ split: [{ variant: 'blue', weight: 1 }, { variant: 'green', weight: 3 }] }, { variants: colors }) });
  const flagSplit = ruleset({ f: oneRule({}, { variants: colors }) });
  const defaultSplit = ruleset({ f: { key: 'f', enabled: true, variants: colors } });
  const three = [{ key: 'a', value: 'A', weight: 2 }, { key: 'b', value: 'B', weight: 0 }, { key: 'c', value: 'C', weight: 5 }];
  const zeroArm = ruleset({ f: oneRule({ split: [{ variant: 'blue', weight: 0 }, { variant: 'green', weight: 7 }] }, { variants: colors }) });
  for (const u of users) {
    add(`split: rule split 1:3, ${u}`, ruleSplit, 'f', { key: u });
    add(`split: flag variants 500/500 on a rule, ${u}`, flagSplit, 'f', { key: u });
    add(`split: flag variants 500/500 by default, ${u}`, defaultSplit, 'f', { key: u });
    add(`split: flag variants 2/0/5, ${u}`, ruleset({ f: { key: 'f', enabled: true, variants: three } }), 'f', { key: u });
  }
  for (const u of users.slice(0, 4)) {
    add(`split: weight-0 arm is never served, ${u}`, zeroArm, 'f', { key: u }, { expect: match('r1', { variant: 'green', value: { color: '#0f0' } }) });
  }
  add(
    'split: omitted flag variant weight counts as 0',
    ruleset({ f: { key: 'f', enabled: true, variants: [{ key: 'a', value: 1 }, { key: 'b', value: 2, weight: 1 }] } }),
    'f',
    { key: 'user-1' },
    { expect: byDefault({ variant: 'b', value: 2 }) },
  );
  add(
    'split: W = 0 in a rule split gives no variant',
    ruleset({ f: oneRule({ split: [{ variant: 'blue', weight: 0 }, { variant: 'green', weight: 0 }] }, { variants: colors }) }),
    'f',
    { key: 'user-1' },
    { expect: match('r1') },
  );
  add(
    'split: W = 0 in the flag variants gives no variant',
    ruleset({ f: { key: 'f', enabled: true, variants: [{ key: 'a', weight: 0 }, { key: 'b' }] } }),
    'f',
    { key: 'user-1' },
    { expect: byDefault() },
  );
  add(
    'split: no unit serves the first variant of non-zero weight (flag variants)',
    ruleset({ f: { key: 'f', enabled: true, variants: three } }),
    'f',
    {},
    { expect: byDefault({ variant: 'a', value: 'A' }) },
  );
  add(
    'split: no unit skips leading zero weights (flag variants)',
    ruleset({ f: oneRule({}, { variants: [{ key: 'z', value: 0, weight: 0 }, ...three] }) }),
    'f',
    { country: 'NL' },
    { expect: match('r1', { variant: 'a', value: 'A' }) },
  );
  add('split: no unit serves the first non-zero arm (rule split)', zeroArm, 'f', {}, { expect: match('r1', { variant: 'green', value: { color: '#0f0' } }) });
  add('split: null key is no unit', zeroArm, 'f', { key: null }, { expect: match('r1', { variant: 'green', value: { color: '#0f0' } }) });
  add('split: empty key is no unit', ruleset({ f: { key: 'f', enabled: true, variants: three } }), 'f', { key: '' }, { expect: byDefault({ variant: 'a', value: 'A' }) });
  add(
    'split: no unit and W = 0 gives no variant',
    ruleset({ f: oneRule({ split: [{ variant: 'blue', weight: 0 }] }, { variants: colors }) }),
    'f',
    {},
    { expect: match('r1') },
  );
  add(
    'split: no unit, bucketBy attribute missing',
    ruleset({ f: oneRule({ rollout: { percentage: 100, bucketBy: 'tenant' } }, { variants: three }) }),
    'f',
    { key: 'user-1' },
    { expect: match('r1', { variant: 'a', value: 'A' }) },
  );
}

// =============================================================================================
// Rollouts and bucketing

{
  const rollout = (percentage: number, more: Obj = {}, flagKey = 'f', extra: Obj = {}) =>
    ruleset({ [flagKey]: { key: flagKey, enabled: true, ...extra, rules: [{ id: 'r1', rollout: { percentage, ...more } }] } });

  // Missing and empty units.
  add('rollout: 50 % never includes a missing unit', rollout(50), 'f', {}, { expect: noMatch });
  add('rollout: 50 % never includes an empty unit', rollout(50), 'f', { key: '' }, { expect: noMatch });
  add('rollout: 50 % never includes a null unit', rollout(50), 'f', { key: null }, { expect: noMatch });
  add('rollout: 99.999 % never includes a missing unit', rollout(99.999), 'f', {}, { expect: noMatch });
  add('rollout: 100 % includes a missing unit', rollout(100), 'f', {}, { expect: match('r1') });
  add('rollout: 100 % includes an empty unit', rollout(100), 'f', { key: '' }, { expect: match('r1') });
  add('rollout: no rollout includes a missing unit', ruleset({ f: oneRule({}) }), 'f', {}, { expect: match('r1') });
  add('rollout: 0 % includes no one without a unit', rollout(0), 'f', {}, { expect: noMatch });
  add('rollout: bucketBy attribute missing, key present', rollout(50, { bucketBy: 'tenant' }), 'f', { key: 'user-1' }, { expect: noMatch });
  add('rollout: bucketBy attribute empty', rollout(50, { bucketBy: 'tenant' }), 'f', { key: 'user-1', tenant: '' }, { expect: noMatch });
  add('rollout: bucketBy attribute missing at 100 %', rollout(100, { bucketBy: 'tenant' }), 'f', { key: 'user-1' }, { expect: match('r1') });

  // ----- HAND-DERIVED -------------------------------------------------------------------------
  // bucket = (h % 100) * 1000 + floor(h / 100) % 1000, h = murmur3("<salt>:<unit>", 0);
  // a rollout of p % includes the unit iff bucket < round(p * 1000).

  // h("edge:user-17291") = 1144900000 -> h % 100 = 0, floor(h / 100) % 1000 = 11449000 % 1000 = 0 -> bucket 0
  add('hand: bucket 0 is inside 0.001 %', rollout(0.001, {}, 'edge'), 'edge', { key: 'user-17291' }, { expect: match('r1') }); // 0 < 1
  add('hand: bucket 0 is outside 0 %', rollout(0, {}, 'edge'), 'edge', { key: 'user-17291' }, { expect: noMatch }); // 0 < 0 is false
  // h("edge:user-45362") = 2289700100 -> h % 100 = 0, floor(h / 100) % 1000 = 22897001 % 1000 = 1 -> bucket 1
  add('hand: bucket 1 is outside 0.001 %', rollout(0.001, {}, 'edge'), 'edge', { key: 'user-45362' }, { expect: noMatch }); // 1 < 1 is false
  add('hand: bucket 1 is inside 0.002 %', rollout(0.002, {}, 'edge'), 'edge', { key: 'user-45362' }, { expect: match('r1') }); // 1 < 2
  // h("edge:user-52548") = 1149399999 -> h % 100 = 99, floor(h / 100) % 1000 = 11493999 % 1000 = 999 -> bucket 99999
  add('hand: bucket 99999 is outside 99.999 %', rollout(99.999, {}, 'edge'), 'edge', { key: 'user-52548' }, { expect: noMatch }); // 99999 < 99999 is false
  add('hand: bucket 99999 is inside 100 %', rollout(100, {}, 'edge'), 'edge', { key: 'user-52548' }, { expect: match('r1') }); // 100 % includes everyone
  // h("edge:user-71863") = 2956599899 -> h % 100 = 99, floor(h / 100) % 1000 = 29565998 % 1000 = 998 -> bucket 99998
  add('hand: bucket 99998 is inside 99.999 %', rollout(99.999, {}, 'edge'), 'edge', { key: 'user-71863' }, { expect: match('r1') }); // 99998 < 99999
  // h("new-checkout:user-42") = 1499260774 -> h % 100 = 74, floor(h / 100) % 1000 = 14992607 % 1000 = 607 -> bucket 74607
  add('hand: user-42 at 12.5 %', rollout(12.5, {}, 'new-checkout'), 'new-checkout', { key: 'user-42' }, { expect: noMatch }); // 74607 < 12500 is false
  add('hand: user-42 at 74.607 %', rollout(74.607, {}, 'new-checkout'), 'new-checkout', { key: 'user-42' }, { expect: noMatch }); // 74607 < 74607 is false
  add('hand: user-42 at 74.608 %', rollout(74.608, {}, 'new-checkout'), 'new-checkout', { key: 'user-42' }, { expect: match('r1') }); // 74607 < 74608
  // Unleash equivalence at whole percentages: h % 100 + 1 <= p. user-42: 74 + 1 = 75.
  add('hand: user-42 at 75 % (Unleash: 75 <= 75)', rollout(75, {}, 'new-checkout'), 'new-checkout', { key: 'user-42' }, { expect: match('r1') }); // 74607 < 75000
  add('hand: user-42 at 74 % (Unleash: 75 <= 74 is false)', rollout(74, {}, 'new-checkout'), 'new-checkout', { key: 'user-42' }, { expect: noMatch }); // 74607 < 74000 is false
  // h("edge:user-3") = 602848205 -> h % 100 = 5, floor(h / 100) % 1000 = 6028482 % 1000 = 482 -> bucket 5482
  add('hand: user-3 at 6 % (Unleash: 6 <= 6)', rollout(6, {}, 'edge'), 'edge', { key: 'user-3' }, { expect: match('r1') }); // 5482 < 6000
  add('hand: user-3 at 5 % (Unleash: 6 <= 5 is false)', rollout(5, {}, 'edge'), 'edge', { key: 'user-3' }, { expect: noMatch }); // 5482 < 5000 is false
  // Four decimals are rounded to thousandths: round(5.4825 * 1000) = round(5482.5) = 5483.
  add('hand: percentages round to thousandths', rollout(5.4825, {}, 'edge'), 'edge', { key: 'user-3' }, { expect: match('r1') }); // 5482 < 5483
  // h("sél:é") = 3930497079 (UTF-8 bytes 73 c3 a9 6c 3a c3 a9) -> 79, 39304970 % 1000 = 970 -> bucket 79970
  add('hand: non-ASCII salt and unit, inside', rollout(79.971, { salt: 'sél' }), 'f', { key: 'é' }, { expect: match('r1') }); // 79970 < 79971
  add('hand: non-ASCII salt and unit, outside', rollout(79.97, { salt: 'sél' }), 'f', { key: 'é' }, { expect: noMatch }); // 79970 < 79970 is false
  // h("中文:🚀") = 3213116771 -> 71, 32131167 % 1000 = 167 -> bucket 71167
  add('hand: CJK salt, emoji unit, inside', rollout(71.168, { salt: '中文' }), 'f', { key: '🚀' }, { expect: match('r1') }); // 71167 < 71168
  add('hand: CJK salt, emoji unit, outside', rollout(71.167, { salt: '中文' }), 'f', { key: '🚀' }, { expect: noMatch });
  // h("tenant-rollout:acme") = 1294180543 -> 43, 12941805 % 1000 = 805 -> bucket 43805
  for (const key of ['alice', 'bob', 'carol']) {
    add(`hand: bucketBy tenant, ${key}@acme at 44 %`, rollout(44, { bucketBy: 'tenant' }, 'tenant-rollout'), 'tenant-rollout', { key, tenant: 'acme' }, { expect: match('r1') }); // 43805 < 44000
    add(`hand: bucketBy tenant, ${key}@acme at 43 %`, rollout(43, { bucketBy: 'tenant' }, 'tenant-rollout'), 'tenant-rollout', { key, tenant: 'acme' }, { expect: noMatch }); // 43805 < 43000 is false
  }
  // Split, t = murmur3("<salt>:<unit>", 86028157) % W; the first arm whose running total exceeds t.
  // h2("🎉:中文") = 1742093910, W = 1 + 3 = 4, t = 1742093910 % 4 = 2 -> blue (1 > 2? no), green (4 > 2) -> green
  add(
    'hand: emoji salt, CJK unit, split 1:3',
    ruleset({ f: oneRule({ rollout: { percentage: 100, salt: '🎉' }, split: [{ variant: 'blue', weight: 1 }, { variant: 'green', weight: 3 }] }, { variants: colors }) }),
    'f',
    { key: '中文' },
    { expect: match('r1', { variant: 'green', value: { color: '#0f0' } }) },
  );
  // h2("split:user-1") = 965196758, W = 3, t = 965196758 % 3 = 2 -> a (1 > 2 no), b (2 > 2 no), c (3 > 2) -> c
  // h2("split:user-2") = 2015529192, t = 0 -> a
  const abc = [{ key: 'a', value: 'A' }, { key: 'b', value: 'B' }, { key: 'c', value: 'C' }];
  const abcSplit = [{ variant: 'a', weight: 1 }, { variant: 'b', weight: 1 }, { variant: 'c', weight: 1 }];
  add('hand: rule split 1:1:1, user-1', ruleset({ split: oneRule({ split: abcSplit }, { variants: abc }) }), 'split', { key: 'user-1' }, { expect: match('r1', { variant: 'c', value: 'C' }) });
  add('hand: rule split 1:1:1, user-2', ruleset({ split: oneRule({ split: abcSplit }, { variants: abc }) }), 'split', { key: 'user-2' }, { expect: match('r1', { variant: 'a', value: 'A' }) });
  // DEFAULT: split of the flag variants with the flag salt (its key "colors") and unit `key`.
  // h2("colors:user-1") = 1157080675, W = 1000, t = 675 -> blue (500 > 675 no), green (1000 > 675) -> green
  // h2("colors:user-2") = 3410474462, t = 462 -> blue (500 > 462)
  const colorsFlag = ruleset({ colors: { key: 'colors', enabled: true, variants: colors } });
  add('hand: default split 500/500, user-1', colorsFlag, 'colors', { key: 'user-1' }, { expect: byDefault({ variant: 'green', value: { color: '#0f0' } }) });
  add('hand: default split 500/500, user-2', colorsFlag, 'colors', { key: 'user-2' }, { expect: byDefault({ variant: 'blue', value: { color: '#00f' } }) });
  // h("shared-canary:user-1") = 411159532 -> 32, 4111595 % 1000 = 595 -> bucket 32595; two flags share the salt
  const shared = ruleset({
    'checkout-api': { key: 'checkout-api', enabled: true, rules: [{ id: 'canary', rollout: { percentage: 33, salt: 'shared-canary' } }] },
    'checkout-ui': { key: 'checkout-ui', enabled: true, rules: [{ id: 'canary', rollout: { percentage: 33, salt: 'shared-canary' } }] },
  });
  add('hand: shared rollout salt, first flag', shared, 'checkout-api', { key: 'user-1' }, { expect: match('canary') }); // 32595 < 33000
  add('hand: shared rollout salt, second flag', shared, 'checkout-ui', { key: 'user-1' }, { expect: match('canary') }); // same bucket
  // ----- end of HAND-DERIVED --------------------------------------------------------------------

  // Numeric, boolean and string units hash alike: the unit is String(value).
  // HAND-DERIVED: h("numeric:12345") = 1863389722 -> 22, 18633897 % 1000 = 897 -> bucket 22897
  const numSalted = rollout(22.898, { salt: 'numeric' });
  add('unit: number 12345 is the unit "12345", inside', numSalted, 'f', { key: 12345 }, { expect: match('r1') }); // 22897 < 22898
  add('unit: string "12345", inside', numSalted, 'f', { key: '12345' }, { expect: match('r1') });
  add('unit: number 12345, outside', rollout(22.897, { salt: 'numeric' }), 'f', { key: 12345 }, { expect: noMatch }); // 22897 < 22897 is false
  for (const [v, s] of [[true, 'true'], [false, 'false'], [0, '0'], [1.5, '1.5'], [-3, '-3']] as const) {
    for (const p of [25, 50, 75]) {
      const expected = referenceBucket('f', s) < p * 1000 ? match('r1') : noMatch;
      add(`unit: ${JSON.stringify(v)} at ${p} %`, rollout(p, { bucketBy: 'attr' }), 'f', { key: 'x', attr: v }, { expect: expected });
    }
  }

  // Non-ASCII and emoji units and salts (expected from the reference).
  const unicodeUnits = ['é', 'e\u0301', 'Ünïcödé', '中文', '用户-42', '🚀', '👩‍💻', '🇳🇱', 'naïve café', 'Ω≈ç√', '\u0000nul'];
  for (const u of unicodeUnits) {
    for (const p of [10, 50, 90]) add(`unit: ${JSON.stringify(u)} at ${p} %`, rollout(p), 'f', { key: u });
  }
  for (const salt of ['sél', '中文', '🎉', 'flag with spaces', 'a:b']) {
    for (const u of ['user-1', 'user-2', 'é']) add(`salt: ${JSON.stringify(salt)}, ${u} at 50 %`, rollout(50, { salt }), 'f', { key: u });
    add(`salt: ${JSON.stringify(salt)} as the flag salt, split`, ruleset({ f: { key: 'f', enabled: true, salt, variants: colors } }), 'f', { key: 'user-3' });
  }
  add('unit: a unicode flag key is the default salt', ruleset({ 'фича-🚀': { key: 'фича-🚀', enabled: true, rules: [{ id: 'r1', rollout: { percentage: 50 } }] } }), 'фича-🚀', { key: 'user-1' });

  // Percentages across the range for a fixed population (expected from the reference).
  for (const p of [0, 0.001, 0.5, 1, 12.5, 33.333, 50, 99, 99.999, 100]) {
    for (const u of ['user-1', 'user-2', 'user-3', 'user-4']) add(`rollout: ${p} %, ${u}`, rollout(p), 'f', { key: u });
  }

  // Salts: flag salt defaults to the key in `flags`, not `flag.key`; rule salt defaults to the flag salt.
  const pickUser = (pred: (u: string) => boolean): string => {
    for (let i = 0; i < 100000; i++) if (pred(`user-${i}`)) return `user-${i}`;
    throw new Error('no such user');
  };
  const inAt = (salt: string, u: string, p: number) => referenceBucket(salt, u) < p * 1000;
  const u1 = pickUser((u) => inAt('ruleset-key', u, 50) && !inAt('flag-key', u, 50));
  const u2 = pickUser((u) => !inAt('ruleset-key', u, 50) && inAt('flag-key', u, 50));
  const keyed = ruleset({ 'ruleset-key': { key: 'flag-key', enabled: true, rules: [{ id: 'r1', rollout: { percentage: 50 } }] } });
  add('salt: defaults to the key in flags, not flag.key (included)', keyed, 'ruleset-key', { key: u1 }, { expect: match('r1') });
  add('salt: defaults to the key in flags, not flag.key (excluded)', keyed, 'ruleset-key', { key: u2 }, { expect: noMatch });
  add('not found: flag.key is not the lookup key', keyed, 'flag-key', { key: u1 }, { expect: notFound });
  const u3 = pickUser((u) => inAt('custom-salt', u, 50) && !inAt('f', u, 50));
  add('salt: the flag salt overrides the key', rollout(50, {}, 'f', { salt: 'custom-salt' }), 'f', { key: u3 }, { expect: match('r1') });
  add('salt: without the flag salt', rollout(50), 'f', { key: u3 }, { expect: noMatch });
  const u4 = pickUser((u) => inAt('rule-salt', u, 50) && !inAt('flag-salt', u, 50));
  add('salt: the rule salt overrides the flag salt', rollout(50, { salt: 'rule-salt' }, 'f', { salt: 'flag-salt' }), 'f', { key: u4 }, { expect: match('r1') });
  add('salt: the rule salt defaults to the flag salt', rollout(50, {}, 'f', { salt: 'flag-salt' }), 'f', { key: u4 }, { expect: noMatch });

  // Two flags sharing a rollout salt and percentage pick the same users; different salts differ.
  const sharedSalt = (k: string) => ({ key: k, enabled: true, rules: [{ id: 'canary', rollout: { percentage: 20, salt: 'release-42' } }] });
  const pair = ruleset({ 'svc-a': sharedSalt('svc-a'), 'svc-b': sharedSalt('svc-b') });
  for (const u of users.slice(0, 8)) {
    const want = inAt('release-42', u, 20) ? match('canary') : noMatch;
    add(`salt: shared rollout salt, svc-a, ${u}`, pair, 'svc-a', { key: u }, { expect: want });
    add(`salt: shared rollout salt, svc-b, ${u}`, pair, 'svc-b', { key: u }, { expect: want });
  }
  const u5 = pickUser((u) => inAt('alpha', u, 50) && !inAt('beta', u, 50));
  const independent = ruleset({
    alpha: { key: 'alpha', enabled: true, rules: [{ id: 'r1', rollout: { percentage: 50 } }] },
    beta: { key: 'beta', enabled: true, rules: [{ id: 'r1', rollout: { percentage: 50 } }] },
  });
  add('salt: different salts pick different users (alpha)', independent, 'alpha', { key: u5 }, { expect: match('r1') });
  add('salt: different salts pick different users (beta)', independent, 'beta', { key: u5 }, { expect: noMatch });

  // The rollout salt and bucketBy are also the split's salt and unit.
  const splitSalted = (salt?: string) =>
    ruleset({ f: oneRule({ rollout: salt === undefined ? { percentage: 100 } : { percentage: 100, salt }, split: [{ variant: 'blue', weight: 1 }, { variant: 'green', weight: 1 }] }, { variants: colors }) });
  for (const u of users.slice(0, 6)) {
    add(`split: uses the rollout salt, ${u}`, splitSalted('split-salt'), 'f', { key: u });
    add(`split: without a rollout salt, ${u}`, splitSalted(), 'f', { key: u });
  }
  const tenantSplit = ruleset({ f: oneRule({ rollout: { percentage: 100, bucketBy: 'tenant' } }, { variants: colors }) });
  for (const t of ['acme', 'globex', 'initech']) {
    for (const k of ['user-1', 'user-2']) add(`split: bucketBy tenant, ${k}@${t}`, tenantSplit, 'f', { key: k, tenant: t });
  }
  // A partial rollout with a split: the included users still split by the split seed.
  const partial = ruleset({ f: oneRule({ rollout: { percentage: 30 }, split: [{ variant: 'blue', weight: 1 }, { variant: 'green', weight: 1 }] }, { variants: colors }) });
  for (const u of users) add(`split: inside a 30 % rollout, ${u}`, partial, 'f', { key: u });
}

// =============================================================================================
// Kill switch, schema errors, bad input, not found

{
  const ctx = { key: 'user-1', country: 'NL' };
  const good = { key: 'f', enabled: true, variants: colors, rules: [{ id: 'r1', conditions: [c('country', 'in', ['NL'])], variant: 'blue' }] };
  add('kill: enabled false beats a matching rule', ruleset({ f: { ...good, enabled: false } }), 'f', ctx, { expect: disabled });
  add('kill: enabled false beats a damaged flag', ruleset({ f: { key: 'f', enabled: false, rules: 'garbage', variants: [{ key: '' }, { key: '' }], salt: 7 } }), 'f', ctx, { expect: disabled });
  add('kill: enabled false beats a bad percentage', ruleset({ f: { key: 'f', enabled: false, rules: [{ id: 'r1', rollout: { percentage: 500 } }] } }), 'f', ctx, { expect: disabled });
  add('kill: enabled false beats unknown rule variants', ruleset({ f: { key: 'f', enabled: false, rules: [{ id: 'r1', variant: 'nope' }] } }), 'f', ctx, { expect: disabled });
  add('kill: enabled false with nothing else', ruleset({ f: { enabled: false } }), 'f', ctx, { expect: disabled });
  add('schema: a valid flag (control case)', ruleset({ f: good }), 'f', ctx, { expect: match('r1', { variant: 'blue', value: { color: '#00f' } }) });

  const damaged: Array<[string, Obj]> = [
    ['enabled is a string', { ...good, enabled: 'false' }],
    ['enabled is missing', { key: 'f', rules: [] }],
    ['enabled is 1', { ...good, enabled: 1 }],
    ['salt is a number', { ...good, salt: 7 }],
    ['variants is an object', { ...good, variants: { blue: 1 } }],
    ['variant key is empty', { ...good, variants: [{ key: '' }, ...colors] }],
    ['variant key is a number', { ...good, variants: [{ key: 1 }, ...colors] }],
    ['variant keys repeat', { ...good, variants: [...colors, { key: 'blue', weight: 1 }] }],
    ['variant weight is fractional', { ...good, variants: [{ key: 'blue', weight: 1.5 }, colors[1]] }],
    ['variant weight is negative', { ...good, variants: [{ key: 'blue', weight: -1 }, colors[1]] }],
    ['variant weight is a string', { ...good, variants: [{ key: 'blue', weight: '1' }, colors[1]] }],
    ['variant is a string', { ...good, variants: ['blue', 'green'] }],
    ['rules is an object', { ...good, rules: { r1: {} } }],
    ['rule is a string', { ...good, rules: ['r1'] }],
    ['rule id is missing', { ...good, rules: [{ conditions: [] }] }],
    ['rule id is a number', { ...good, rules: [{ id: 1 }] }],
    ['percentage above 100', { ...good, rules: [{ id: 'r1', rollout: { percentage: 100.001 } }] }],
    ['percentage below 0', { ...good, rules: [{ id: 'r1', rollout: { percentage: -1 } }] }],
    ['percentage is a string', { ...good, rules: [{ id: 'r1', rollout: { percentage: '50' } }] }],
    ['rollout is a number', { ...good, rules: [{ id: 'r1', rollout: 50 }] }],
    ['bucketBy is a number', { ...good, rules: [{ id: 'r1', rollout: { percentage: 50, bucketBy: 1 } }] }],
    ['rollout salt is a boolean', { ...good, rules: [{ id: 'r1', rollout: { percentage: 50, salt: true } }] }],
    ['rule variant is unknown', { ...good, rules: [{ id: 'r1', variant: 'purple' }] }],
    ['rule variant without flag variants', { key: 'f', enabled: true, rules: [{ id: 'r1', variant: 'blue' }] }],
    ['split arm names an unknown variant', { ...good, rules: [{ id: 'r1', split: [{ variant: 'purple', weight: 1 }] }] }],
    ['split weight is fractional', { ...good, rules: [{ id: 'r1', split: [{ variant: 'blue', weight: 0.5 }] }] }],
    ['split weight is missing', { ...good, rules: [{ id: 'r1', split: [{ variant: 'blue' }] }] }],
    ['split is an object', { ...good, rules: [{ id: 'r1', split: { blue: 1 } }] }],
    ['conditions is an object', { ...good, rules: [{ id: 'r1', conditions: { attribute: 'a' } }] }],
    ['condition attribute is missing', { ...good, rules: [{ id: 'r1', conditions: [{ operator: 'exists' }] }] }],
    ['condition operator is a number', { ...good, rules: [{ id: 'r1', conditions: [{ attribute: 'a', operator: 1 }] }] }],
    ['condition values is a string', { ...good, rules: [{ id: 'r1', conditions: [{ attribute: 'a', operator: 'in', values: 'NL' }] }] }],
    ['condition values hold null', { ...good, rules: [{ id: 'r1', conditions: [{ attribute: 'a', operator: 'in', values: ['NL', null] }] }] }],
    ['condition values hold an object', { ...good, rules: [{ id: 'r1', conditions: [{ attribute: 'a', operator: 'in', values: [{ v: 'NL' }] }] }] }],
    ['condition negate is a string', { ...good, rules: [{ id: 'r1', conditions: [{ attribute: 'a', operator: 'exists', negate: 'yes' }] }] }],
    ['condition caseInsensitive is a number', { ...good, rules: [{ id: 'r1', conditions: [{ attribute: 'a', operator: 'in', caseInsensitive: 1 }] }] }],
    ['rule cohorts is a string', { ...good, rules: [{ id: 'r1', cohorts: 'beta' }] }],
    ['rule cohorts hold a number', { ...good, rules: [{ id: 'r1', cohorts: [1] }] }],
    ['prerequisites is an object', { ...good, prerequisites: { flag: 'p' } }],
    ['prerequisite flag is a number', { ...good, prerequisites: [{ flag: 1 }] }],
    ['prerequisite enabled is a string', { ...good, prerequisites: [{ flag: 'p', enabled: 'no' }] }],
    ['prerequisite variants is a string', { ...good, prerequisites: [{ flag: 'p', variants: 'blue' }] }],
    ['a later, unreachable rule is damaged', { ...good, rules: [good.rules[0], { id: 'r2', rollout: { percentage: 101 } }] }],
  ];
  for (const [desc, flag] of damaged) add(`schema: ${desc}`, ruleset({ f: flag }), 'f', ctx, { expect: error('INVALID_FLAG') });
  add('schema: the flag is a number', ruleset({ f: 42 }), 'f', ctx, { expect: error('INVALID_FLAG') });
  add('schema: the flag is a string', ruleset({ f: 'on' }), 'f', ctx, { expect: error('INVALID_FLAG') });
  add('schema: the flag is an array', ruleset({ f: [true] }), 'f', ctx, { expect: error('INVALID_FLAG') });
  add('schema: percentage 0 and 100 are valid', ruleset({ f: { key: 'f', enabled: true, rules: [{ id: 'a', rollout: { percentage: 0 } }, { id: 'b', rollout: { percentage: 100 } }] } }), 'f', ctx, { expect: match('b') });
  add('schema: weight 0 is valid', ruleset({ f: { key: 'f', enabled: true, variants: [{ key: 'x', weight: 0 }, { key: 'y', weight: 3, value: 'Y' }] } }), 'f', ctx, { expect: byDefault({ variant: 'y', value: 'Y' }) });
  // semantics §10 asks for strings here, not non-empty strings.
  add('schema: an empty rule id is still a string', ruleset({ f: { key: 'f', enabled: true, rules: [{ id: '' }] } }), 'f', ctx, { expect: match('') });
  add('schema: an empty condition attribute is still a string (and always missing)', ruleset({ f: oneRule({ conditions: [c('', 'notIn', ['x'])] }) }), 'f', ctx, { expect: match('r1') });
  add('schema: an empty bucketBy is still a string (and names a missing unit)', ruleset({ f: oneRule({ rollout: { percentage: 50, bucketBy: '' } }) }), 'f', ctx, { expect: noMatch });
  add('schema: unknown extra fields are fine', ruleset({ f: { ...good, owner: 'team-a', rules: [{ ...good.rules[0], description: 'x' }] } }), 'f', ctx, { expect: match('r1', { variant: 'blue', value: { color: '#00f' } }) });

  add('input: ruleset is null', null, 'f', ctx, { expect: error('INVALID_INPUT') });
  add('input: ruleset is a string', 'ruleset', 'f', ctx, { expect: error('INVALID_INPUT') });
  add('input: ruleset without flags', { environment: 'x', revision: 1, cohorts: {} }, 'f', ctx, { expect: error('INVALID_INPUT') });
  add('input: ruleset flags is a number', { environment: 'x', revision: 1, flags: 5, cohorts: {} }, 'f', ctx, { expect: error('INVALID_INPUT') });
  add('input: context is a string', ruleset({ f: good }), 'f', 'user-1', { expect: error('INVALID_INPUT') });
  add('input: context is a number', ruleset({ f: good }), 'f', 42, { expect: error('INVALID_INPUT') });

  add('not found: unknown flag', ruleset({ f: good }), 'nope', ctx, { expect: notFound });
  add('not found: empty ruleset', ruleset({}), 'f', ctx, { expect: notFound });
  add('not found: "constructor"', ruleset({ f: good }), 'constructor', ctx, { expect: notFound });
  add('not found: "toString"', ruleset({ f: good }), 'toString', ctx, { expect: notFound });
  add('not found: "__proto__"', ruleset({ f: good }), '__proto__', ctx, { expect: notFound });
}

// =============================================================================================

const names = new Set(cases.map((x) => x.name));
if (names.size !== cases.length) throw new Error('duplicate names');
const out = fileURLToPath(new URL('./vectors.json', import.meta.url));
// One case per line: compact, and a diff shows which cases changed.
writeFileSync(out, '{ "version": 1, "cases": [\n' + cases.map((x) => JSON.stringify(x)).join(',\n') + '\n] }\n');
console.log(`wrote ${cases.length} cases (${handChecked} with a hand-written expectation) to ${out}`);
