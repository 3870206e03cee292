import { cohortProblems, conditionProblems, flagProblems, isObject } from './check.js';
import { MAX_PATTERN_LENGTH } from './conditions/compile.js';
import { toCidr, toInstant, toNumber, toSemver } from './conditions/parse.js';
import { MAX_PREREQUISITE_DEPTH } from './evaluate.js';
import { PatternError, TOO_LARGE } from './regex/parse.js';
import { MAX_PROGRAM_SIZE, compilePattern } from './regex/program.js';
import { Operators, type Ruleset } from './types.js';

/** One problem in a flag or cohort, with the field path (`rules[0].conditions[1].values`). */
export interface Issue {
  path: string;
  message: string;
}

export interface ValidateOptions {
  /**
   * Also apply the checks the server makes when a flag is written: known operators, at most three
   * decimals, values that parse, safe regexes, non-empty ids and names, and (with `ruleset`)
   * references that exist and no prerequisite cycles. Evaluation needs only the structural checks.
   */
  strict?: boolean;
  /** The ruleset the flag will live in, to check cohort, flag and prerequisite references. */
  ruleset?: Ruleset;
  /** The flag's key in the ruleset (for self-references and cycles). */
  key?: string;
  /**
   * `matches` patterns already stored in the version being replaced: not refused again when they
   * no longer compile (written before the RE2 dialect, they evaluate false and the server lists
   * them at boot), so that a kill, a revive or the rollout dial never fails on one.
   */
  storedPatterns?: ReadonlySet<string>;
}

const MESSAGES: Record<string, string> = {
  enabled: 'must be a boolean',
  negate: 'must be a boolean',
  caseInsensitive: 'must be a boolean',
  weight: 'must be a whole number >= 0',
  percentage: 'must be a number from 0 to 100',
  variant: 'must name a variant of the flag',
  key: 'must be a non-empty string, unique among the variants',
  values: 'must be an array of strings, numbers or booleans',
  cohorts: 'must be an array of cohort keys',
  included: 'must be an array of keys',
  excluded: 'must be an array of keys',
  variants: 'must be an array of variant keys',
  rules: 'must be an array',
  prerequisites: 'must be an array',
  conditions: 'must be an array',
  split: 'must be an array',
  rollout: 'must be an object',
};

/** Says what a structural problem's path must hold. */
function describe(path: string): Issue {
  const name = /(\w*)$/.exec(path)![1]!;
  const message = path === '' || path.endsWith(']') ? 'must be an object' : path === 'variants' ? 'must be an array' : (MESSAGES[name] ?? 'must be a string');
  return { path, message };
}

/** What each PatternError.problem means (indexed by the codes of regex/parse.ts), for people. */
const PATTERN_PROBLEMS = [
  'back-references are not supported',
  'lookahead and lookbehind are not supported',
  'Unicode classes such as \\p{L} are not supported; list the ranges instead, e.g. [\\x{0370}-\\x{03FF}]',
  'invalid escape (a code point is \\x{263A}; \\u, \\c and \\e do not exist)',
  'trailing backslash',
  'missing closing )',
  'unexpected )',
  'missing closing ]',
  'unsupported group syntax (groups are (x), (?:x), (?P<name>x), (?<name>x), flags (?ims-U) and (?ims-U:x))',
  'invalid group name (letters, digits and _)',
  'duplicate group name',
  'nothing to repeat',
  'a repetition cannot repeat a repetition directly (write (?:x*)+ to mean it)',
  'invalid repeat count (at most 1000, nested repetitions multiplied included)',
  'invalid character class range',
  'unknown POSIX class (alnum, alpha, ascii, blank, cntrl, digit, graph, lower, print, punct, space, upper, word, xdigit)',
  `pattern too large once its repetitions are expanded (at most ${MAX_PROGRAM_SIZE} steps)`,
];

/**
 * Why `pattern` is refused by the `matches` dialect (RE2 syntax, see docs/evaluation.md), for a
 * person; undefined when it compiles. Evaluation treats a refused pattern as false.
 */
export function patternProblem(pattern: string): string | undefined {
  if (pattern.length > MAX_PATTERN_LENGTH) return `regular expression longer than ${MAX_PATTERN_LENGTH} characters`;
  try {
    compilePattern(pattern);
    return undefined;
  } catch (e) {
    if (!(e instanceof PatternError)) throw e;
    const at = e.problem === TOO_LARGE ? '' : `: ${e.fragment}`;
    return `${PATTERN_PROBLEMS[e.problem]} (RE2 syntax)${at}`;
  }
}

const known = new Set<string>(Operators);

function decimals(n: number): number {
  const [mantissa, exponent] = String(n).split('e-');
  return (mantissa!.split('.')[1]?.length ?? 0) + Number(exponent ?? 0);
}

/** The write-time checks of one condition's values, by operator. */
function valueIssues(operator: string, values: unknown[], path: string, storedPatterns: ReadonlySet<string> | undefined): Issue[] {
  const first = values[0];
  const issue = (ok: unknown, message: string): Issue[] => (ok ? [] : [{ path, message }]);
  if (operator === 'matches') {
    if (typeof first !== 'string') return issue(false, 'must hold a regular expression as its first value');
    const problem = storedPatterns?.has(first) ? undefined : patternProblem(first);
    return issue(problem === undefined, problem!);
  }
  if (operator.startsWith('num')) return issue(typeof first !== 'boolean' && toNumber(first) !== undefined && Number.isFinite(toNumber(first)), 'must hold a number');
  if (operator === 'before' || operator === 'after') return issue(toInstant(first) !== undefined, 'must hold an ISO-8601 date or epoch milliseconds');
  if (operator.startsWith('semver')) return issue(toSemver(first), 'must hold a strict SemVer 2.0 version (no "v" prefix)');
  if (operator === 'inCidr') {
    const bad = values.flatMap((v, i) => (typeof v === 'string' && toCidr(v) ? [] : [{ path: `${path}[${i}]`, message: 'must be an IPv4 or IPv6 CIDR block or address' }]));
    return [...bad, ...issue(values.length, 'must hold at least one CIDR block')];
  }
  return operator === 'exists' ? [] : issue(values.length, 'must hold at least one value');
}

/** The write-time checks of a list of structurally sound conditions. */
function strictConditionIssues(conditions: unknown, path: string, storedPatterns?: ReadonlySet<string>): Issue[] {
  if (!Array.isArray(conditions)) return [];
  return conditions.flatMap((c: Record<string, unknown>, i) => {
    const at = `${path}[${i}]`;
    const issues: Issue[] = [];
    if (c.attribute === '') issues.push({ path: `${at}.attribute`, message: 'must be a non-empty string' });
    if (!known.has(c.operator as string)) issues.push({ path: `${at}.operator`, message: `unknown operator "${String(c.operator)}"; one of ${Operators.join(', ')}` });
    else issues.push(...valueIssues(c.operator as string, (c.values as unknown[] | undefined) ?? [], `${at}.values`, storedPatterns));
    return issues;
  });
}

/** Checks a list of conditions (shared by flag rules and cohorts). */
export function validateConditions(conditions: unknown, path: string, strict = false): Issue[] {
  const structural = conditionProblems(conditions, path).map(describe);
  return structural.length || !strict ? structural : strictConditionIssues(conditions, path);
}

/** Structural (and, with `strict`, write-time) problems of a flag; empty when it is sound. */
export function validateFlag(flag: unknown, options: ValidateOptions = {}): Issue[] {
  const structural = flagProblems(flag).map(describe);
  if (structural.length || options.strict !== true || !isObject(flag)) return structural;
  const { ruleset, key, storedPatterns } = options;
  const issues: Issue[] = [];
  const rules = (flag.rules ?? []) as Array<Record<string, unknown>>;
  const ids = new Set<unknown>();
  rules.forEach((r, i) => {
    const at = `rules[${i}]`;
    if (r.id === '' || ids.has(r.id)) issues.push({ path: `${at}.id`, message: r.id === '' ? 'must be a non-empty string' : `duplicate rule id "${String(r.id)}"` });
    ids.add(r.id);
    const rollout = r.rollout as { percentage: number; bucketBy?: string } | undefined;
    if (rollout && decimals(rollout.percentage) > 3) issues.push({ path: `${at}.rollout.percentage`, message: 'must have at most three decimals' });
    if (rollout?.bucketBy === '') issues.push({ path: `${at}.rollout.bucketBy`, message: 'must be a non-empty attribute name' });
    issues.push(...strictConditionIssues(r.conditions, `${at}.conditions`, storedPatterns));
    ((r.cohorts ?? []) as string[]).forEach((c, j) => {
      if (ruleset && !Object.hasOwn(ruleset.cohorts, c)) issues.push({ path: `${at}.cohorts[${j}]`, message: `no cohort "${c}"` });
    });
  });
  ((flag.prerequisites ?? []) as Array<{ flag: string }>).forEach((p, i) => {
    if (p.flag === key) issues.push({ path: `prerequisites[${i}].flag`, message: 'a flag cannot be its own prerequisite' });
    else if (ruleset && !Object.hasOwn(ruleset.flags, p.flag)) issues.push({ path: `prerequisites[${i}].flag`, message: `no flag "${p.flag}"` });
  });
  if (!issues.length && ruleset && key !== undefined) {
    const cycle = findCycle(key, flag, ruleset);
    const chain = cycle ? undefined : deepestChain(key, flag, ruleset);
    if (cycle) issues.push({ path: 'prerequisites', message: `prerequisite cycle: ${cycle.join(' -> ')}` });
    else if (chain!.length - 1 > MAX_PREREQUISITE_DEPTH) {
      // Evaluation fails such a chain: refuse it when it is written instead.
      issues.push({ path: 'prerequisites', message: `prerequisite chain deeper than ${MAX_PREREQUISITE_DEPTH} levels: ${chain!.join(' -> ')}` });
    }
  }
  return issues;
}

const prerequisitesOf = (key: string, flag: Record<string, unknown>, ruleset: Ruleset) => (k: string): string[] => {
  const f = (k === key ? flag : ruleset.flags[k]) as { prerequisites?: unknown } | undefined;
  return Array.isArray(f?.prerequisites) ? f.prerequisites.filter(isObject).map((p) => String(p.flag)) : [];
};

/** The longest prerequisite chain from `key` (no cycles), as the flags along it. */
function deepestChain(key: string, flag: Record<string, unknown>, ruleset: Ruleset): string[] {
  const next = prerequisitesOf(key, flag, ruleset);
  const memo = new Map<string, string[]>();
  const longest = (k: string): string[] => {
    let chain = memo.get(k);
    if (!chain) {
      chain = [k];
      for (const n of next(k)) {
        const sub = longest(n);
        if (sub.length + 1 > chain.length) chain = [k, ...sub];
      }
      memo.set(k, chain);
    }
    return chain;
  };
  return longest(key);
}

function findCycle(key: string, flag: Record<string, unknown>, ruleset: Ruleset): string[] | undefined {
  const next = prerequisitesOf(key, flag, ruleset);
  const path: string[] = [];
  const done = new Set<string>();
  const visit = (k: string): string[] | undefined => {
    if (path.includes(k)) return [...path.slice(path.indexOf(k)), k];
    if (done.has(k)) return undefined;
    path.push(k);
    for (const n of next(k)) {
      const found = visit(n);
      if (found) return found;
    }
    path.pop();
    done.add(k);
    return undefined;
  };
  return visit(key);
}

/**
 * Structural (and, with `strict`, write-time) problems of a cohort; empty when it is sound.
 * `storedPatterns` as in ValidateOptions.
 */
export function validateCohort(cohort: unknown, strict = false, storedPatterns?: ReadonlySet<string>): Issue[] {
  const structural = cohortProblems(cohort).map(describe);
  return structural.length || !strict || !isObject(cohort) ? structural : strictConditionIssues(cohort.conditions, 'conditions', storedPatterns);
}
