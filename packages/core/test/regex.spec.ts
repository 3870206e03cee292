/**
 * The `matches` engine against re2js (the JavaScript port of RE2, also what Unleash's Node SDK
 * uses): the same patterns are accepted and refused, and accepted ones give the same answers.
 * Unicode classes (`\p`) are the one documented difference.
 */
import fc from 'fast-check';
import { RE2JS } from 're2js';
import { describe, expect, it } from 'vitest';
import { PatternError, TOO_LARGE } from '../src/regex/parse.js';
import { MAX_PROGRAM_SIZE, compilePattern, compileTree } from '../src/regex/program.js';
import { decodeTree, parsePattern, parsedPatterns, type ParsedPattern } from '../src/regex/compact.js';
import { usesUnicodeClass } from './reference.js';

const TOKENS = [
  'a', 'b', 'c', 'A', 'k', 'K', 'é', 'É', 'σ', 'ς', 'Σ', 'ſ', '\u212a', '🚀', '1', ' ', '-', '_', '.', '\\.', '\\-', '\\ ', '\\n', '\\t', '\\x41', '\\x{1F680}', '\\101', '\\0',
  '\\d', '\\D', '\\w', '\\W', '\\s', '\\S', '\\b', '\\B', '\\A', '\\z', '^', '$',
  '[ab]', '[^a]', '[a-c]', '[A-Z]', '[^\\n]', '[\\d_]', '[\\W]', '[]a]', '[^]a]', '[a-]', '[-a]', '[[:alpha:]]', '[[:^digit:]]', '[[:punct:][:space:]]', '[[:foo:]]', '[z-a]', '[é-ë]', '[\\x{100}-\\x{17F}]',
  '(', ')', '(?:', '(?i)', '(?i:', '(?-i)', '(?s)', '(?m)', '(?U)', '(?i-s:', '(?P<n>', '(?<m>', '(?=', '(?!', '(?<=', '(?#', '(?x)', '(?-)', '(?',
  '|', '*', '+', '?', '*?', '+?', '??', '{2}', '{1,3}', '{0,}', '{2,}?', '{,2}', '{01}', '{1001}', '{', '}', ']', '[', '-', '\\', '\\Q', '\\E', '\\1', '\\8', '\\k', '\\e', '\\u', '\\pL', '\\C', '\\Z',
];
const STRING_PARTS = ['a', 'b', 'c', 'A', 'B', 'C', 'k', 'K', '\u212a', 'é', 'É', 'σ', 'ς', 'Σ', 'ſ', 's', 'S', '🚀', '1', '_', '-', '.', ' ', '\n', '\t'];

const ATOMS = TOKENS.filter((t) => !/^[()|*+?{}[\]\\-]$|^[(?]|^[*+?{]|^\\[QE1-9kepuCZ]|^\\$/.test(t));
/** Patterns built as trees, so that nearly all of them are valid and their answers get compared. */
const { tree } = fc.letrec<{ tree: string; cat: string; alt: string; group: string; rep: string }>((tie) => ({
  tree: fc.oneof({ depthSize: 'small', withCrossShrink: true }, fc.constantFrom(...ATOMS), tie('cat'), tie('alt'), tie('group'), tie('rep')),
  cat: fc.array(tie('tree'), { minLength: 2, maxLength: 4 }).map((xs) => xs.join('')),
  alt: fc.array(tie('tree'), { minLength: 2, maxLength: 3 }).map((xs) => xs.join('|')),
  group: fc.tuple(fc.constantFrom('(', '(?:', '(?i:', '(?-i:', '(?s:', '(?m:', '(?U:'), tie('tree')).map(([open, x]) => `${open}${x})`),
  rep: fc.tuple(tie('tree'), fc.constantFrom('*', '+', '?', '{2}', '{0,2}', '{1,}', '*?', '{3}?')).map(([x, r]) => `(?:${x})${r}`),
}));

const pattern = fc.array(fc.constantFrom(...TOKENS), { minLength: 1, maxLength: 8 }).map((t) => t.join(''));
const text = fc.array(fc.constantFrom(...STRING_PARTS), { maxLength: 10 }).map((t) => t.join(''));

/** re2js's verdict, with Unicode classes (unsupported here) counted as refused. */
function reference(p: string, ci: boolean): RE2JS | undefined {
  if (usesUnicodeClass(p)) return undefined;
  try {
    return RE2JS.compile(p, ci ? RE2JS.CASE_INSENSITIVE : 0);
  } catch {
    return undefined;
  }
}

function ours(p: string, ci: boolean): ((s: string) => boolean) | undefined {
  try {
    return compilePattern(p, ci);
  } catch (e) {
    if (!(e instanceof PatternError)) throw e;
    return undefined;
  }
}

describe('the matches engine agrees with re2js', () => {
  it('on which patterns are valid, and on what they match (random patterns and texts)', () => {
    fc.assert(
      fc.property(pattern, fc.boolean(), fc.array(text, { minLength: 1, maxLength: 12 }), (p, ci, texts) => {
        const ref = reference(p, ci);
        const mine = ours(p, ci);
        expect(mine !== undefined, `accepts ${JSON.stringify(p)}`).toBe(ref !== undefined);
        if (!mine || !ref) return;
        for (const s of texts) expect(mine(s), `${JSON.stringify(p)}${ci ? ' (caseInsensitive)' : ''} on ${JSON.stringify(s)}`).toBe(ref.test(s));
        // What the browser SDK runs: the parsed form a client key gets, sent as JSON.
        const parsed = JSON.parse(JSON.stringify(parsePattern(p, ci) ?? null)) as ParsedPattern;
        expect(parsed, `parses ${JSON.stringify(p)}`).not.toBeNull();
        const browser = parsedPatterns({ attribute: 'a', operator: 'matches', values: [p], parsed }, false);
        for (const s of texts) expect(browser(s), `parsed ${JSON.stringify(p)}${ci ? ' (caseInsensitive)' : ''} on ${JSON.stringify(s)}`).toBe(ref.test(s));
      }),
      { numRuns: Number(process.env.REGEX_RUNS ?? 1500), seed: Number(process.env.REGEX_SEED ?? 20240615) },
    );
  }, 60_000);

  it('on what valid patterns match (random pattern trees and texts)', () => {
    fc.assert(
      fc.property(tree, fc.boolean(), fc.array(text, { minLength: 1, maxLength: 12 }), (p, ci, texts) => {
        const ref = reference(p, ci);
        const mine = ours(p, ci);
        expect(mine !== undefined, `accepts ${JSON.stringify(p)}`).toBe(ref !== undefined);
        if (!mine || !ref) return;
        for (const s of texts) expect(mine(s), `${JSON.stringify(p)}${ci ? ' (caseInsensitive)' : ''} on ${JSON.stringify(s)}`).toBe(ref.test(s));
        // What the browser SDK runs: the parsed form a client key gets, sent as JSON.
        const parsed = JSON.parse(JSON.stringify(parsePattern(p, ci) ?? null)) as ParsedPattern;
        expect(parsed, `parses ${JSON.stringify(p)}`).not.toBeNull();
        const browser = parsedPatterns({ attribute: 'a', operator: 'matches', values: [p], parsed }, false);
        for (const s of texts) expect(browser(s), `parsed ${JSON.stringify(p)}${ci ? ' (caseInsensitive)' : ''} on ${JSON.stringify(s)}`).toBe(ref.test(s));
      }),
      { numRuns: Number(process.env.REGEX_RUNS ?? 1500), seed: Number(process.env.REGEX_SEED ?? 20240615) },
    );
  }, 60_000);

  it.each([
    ['^(?:[a-z0-9._%+-]+)@(?:[a-z0-9-]+\\.)+[a-z]{2,}$', ['alice@example.com', 'a@b', 'x@y.z1', 'Bob@Example.COM']],
    ['(?i)^(pro|enterprise)$', ['PRO', 'Enterprise', 'pros']],
    ['^\\d{3}-\\d{4}$', ['555-1234', '5551234', '555-12345']],
    ['(?m)^x$', ['a\nx\nb', 'ax', 'x']],
    ['\\bcat\\b', ['a cat!', 'concat', 'cat']],
    ['[[:upper:]][[:lower:]]+', ['Hello', 'hello', 'HELLO']],
    ['(?i)straße', ['STRASSE', 'Straße', 'STRAẞE']],
    ['^.{3}$', ['🚀🚀🚀', 'abc', 'ab']],
  ])('on %s', (p, texts) => {
    for (const ci of [false, true]) for (const s of texts) expect(ours(p, ci)!(s), `${p} ${ci} ${s}`).toBe(reference(p, ci)!.test(s));
  });
});

describe('the DFA cache', () => {
  it.each(['(?:a|b)*a(?:a|b){12}c', '(?:a|b)*a(?:a|b){12}$', '(?m)^(?:a|b|\\n)*b(?:a|b){10}\\b', '(?i)(?:A|b)*a(?:a|B){12}(?:c|$)'])(
    'answers like re2js once it is full and the search goes on without it: %s',
    (p) => {
      // Random texts over a small alphabet reach thousands of distinct state sets: far more than fit.
      const mine = compilePattern(p);
      const ref = RE2JS.compile(p);
      let seed = 7;
      const random = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) >> 8) / 8388608;
      for (let n = 0; n < 40; n++) {
        const s = Array.from({ length: 1 + Math.floor(random() * 1023) }, () => 'abAB c\n'[Math.floor(random() * (random() < 0.9 ? 2 : 7))]).join('');
        expect(mine(s), `${p} on ${JSON.stringify(s.slice(0, 40))}… (${s.length})`).toBe(ref.test(s));
      }
    },
  );
});

describe('parsed forms (what client keys get)', () => {
  it('are about as long as the pattern: literal runs are strings', () => {
    expect(parsePattern('^[a-z0-9._%+-]+@example\\.com$')).toEqual([2, 0, [4, [0, 37, 37, 43, 43, 45, 46, 48, 57, 95, 95, 97, 122], 1, -1], '@example.com', 1]);
    expect(parsePattern('^(beta|canary)-\\d+$')).toEqual([2, 0, [3, 'beta', 'canary'], '-', [4, [0, 48, 57], 1, -1], 1]);
  });

  it('keep a lone surrogate a set, so that it cannot pair with its neighbour', () => {
    const parsed = JSON.parse(JSON.stringify(parsePattern('\\x{D83D}\\x{DE80}')));
    expect(parsed).toEqual([2, [0, 0xd83d, 0xd83d], [0, 0xde80, 0xde80]]);
    expect(compileTree(decodeTree(parsed))('🚀')).toBe(compilePattern('\\x{D83D}\\x{DE80}')('🚀'));
  });

  it('are absent for refused patterns, and a form that compiles to nothing is refused, not run', () => {
    expect(parsePattern('(a')).toBeUndefined();
    expect(parsePattern('(?:abcdefghij){200}')).toBeUndefined();
    expect(parsePattern('a'.repeat(257))).toBeUndefined();
    // Not from the server: an empty group nested three times 1,000,000 times each.
    const empty: ParsedPattern = [4, [4, [4, [2], 1_000_000, 1_000_000], 1_000_000, 1_000_000], 1_000_000, 1_000_000];
    expect(() => compileTree(decodeTree(empty))).toThrow(expect.objectContaining({ problem: TOO_LARGE }));
    expect(() => parsedPatterns({ attribute: 'a', operator: 'matches', values: ['x'] }, false)).toThrow();
  });
});

describe('program size', () => {
  it(`refuses a program over ${MAX_PROGRAM_SIZE} steps and accepts one at the limit`, () => {
    expect(ours('a{1000}', false)).toBeDefined();
    expect(ours('a{500}b{500}', false)).toBeDefined();
    expect(ours('a{500}b{501}', false)).toBeUndefined();
    expect(() => compilePattern('(?:abcdefghij){200}')).toThrow(expect.objectContaining({ problem: TOO_LARGE }));
  });

  it('searches the largest program over 1,025 characters without blowing up (a bound, not a benchmark)', () => {
    const worst = compilePattern('(?:a?){499}b');
    const started = performance.now();
    expect(worst('a'.repeat(1025))).toBe(false);
    expect(performance.now() - started).toBeLessThan(1000);
  });
});
