/**
 * The shell blocks of a Markdown page, as a user would paste them: split into commands, each with
 * the output the page shows for it (the `# {...}` comment lines right below it), and a matcher for
 * those outputs. `…` (or `...`) in a shown output stands for what varies: `"…"` any value,
 * `"avc_…"` a string with that start, a bare `…` in an object or array "and more".
 *
 * A block is run unless the line right before its fence says why not:
 * `<!-- docs-test: skip (needs a Docker engine) -->`.
 */

export interface ShellBlock {
  file: string;
  /** 1-based line of the opening fence. */
  line: number;
  code: string;
  /** Why the block is not run, when it is not. */
  skip?: string;
}

export interface ShellStep {
  /** 1-based line in the page. */
  line: number;
  command: string;
  /** What the page shows this command printing (JSON text with `…` patterns), if it shows it. */
  expected?: string;
  /** `VAR=value npm start`: the server the page talks to, started with this environment; not run. */
  serverEnv?: Record<string, string>;
}

const FENCE = /^```(sh|bash|shell|console)\s*$/;
const SKIP = /^<!--\s*docs-test:\s*skip\s*(.*?)\s*-->$/;

export function shellBlocks(file: string, markdown: string): ShellBlock[] {
  const lines = markdown.split('\n');
  const blocks: ShellBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (!FENCE.test(lines[i]!)) {
      if (lines[i]!.startsWith('```')) i = closingFence(lines, i); // skip other languages' blocks whole
      continue;
    }
    const end = closingFence(lines, i);
    const skip = SKIP.exec(lines[i - 1]?.trim() ?? '');
    blocks.push({ file, line: i + 1, code: lines.slice(i + 1, end).join('\n'), skip: skip ? skip[1] || 'no reason given' : undefined });
    i = end;
  }
  return blocks;
}

function closingFence(lines: string[], open: number): number {
  for (let j = open + 1; j < lines.length; j++) if (lines[j]!.trimEnd() === '```') return j;
  return lines.length;
}

const START = /^((?:[A-Z_][A-Z0-9_]*=\S+\s+)*)npm start\b/;

/** The commands of one block (a command continues over `\` line ends and open single quotes). */
export function shellSteps(block: ShellBlock): ShellStep[] {
  const lines = block.code.split('\n');
  const steps: ShellStep[] = [];
  let attachTo: ShellStep | undefined;
  let shown: string[] = [];
  const settle = () => {
    if (attachTo && shown.length > 0) attachTo.expected = shownOutput(shown);
    shown = [];
  };
  for (let i = 0; i < lines.length; i++) {
    const text = lines[i]!;
    if (text.trim() === '') {
      settle();
      attachTo = undefined;
      continue;
    }
    if (text.trimStart().startsWith('#')) {
      if (attachTo) shown.push(text.trimStart().replace(/^#\s?/, ''));
      continue;
    }
    settle();
    const first = i;
    let command = text;
    while ((command.endsWith('\\') || unbalancedQuotes(command)) && i + 1 < lines.length) command += `\n${lines[++i]}`;
    const step: ShellStep = { line: block.line + 1 + first, command };
    const start = START.exec(command.trim());
    if (start) step.serverEnv = Object.fromEntries(start[1]!.trim().split(/\s+/).filter(Boolean).map((pair) => pair.split('=', 2) as [string, string]));
    steps.push(step);
    attachTo = step;
  }
  settle();
  return steps;
}

function unbalancedQuotes(command: string): boolean {
  return (command.replace(/#.*$/gm, '').match(/'/g)?.length ?? 0) % 2 === 1;
}

/** The JSON the comment lines show, if they start with one (prose after it is dropped). */
function shownOutput(comments: string[]): string | undefined {
  const text = comments.map((line) => line.trim()).join('');
  if (!text.startsWith('{') && !text.startsWith('[')) return undefined;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') {
      depth--;
      if (depth === 0) return text.slice(0, i + 1);
    }
  }
  return undefined;
}

const MORE = '__and_more__';

/** Parses a shown output into a JSON pattern (bare `…` become "and more" markers). */
export function parsePattern(shown: string): unknown {
  let out = '';
  const stack: string[] = [];
  let inString = false;
  for (let i = 0; i < shown.length; i++) {
    const c = shown[i]!;
    if (inString) {
      out += c;
      if (c === '\\') out += shown[++i] ?? '';
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    else if (c === '{' || c === '[') stack.push(c);
    else if (c === '}' || c === ']') stack.pop();
    const ellipsis = c === '…' ? 1 : shown.startsWith('...', i) ? 3 : 0;
    if (ellipsis > 0) {
      out += stack.at(-1) === '{' ? `"${MORE}":true` : `"${MORE}"`;
      i += ellipsis - 1;
      continue;
    }
    out += c;
  }
  return JSON.parse(out);
}

/** Where `actual` differs from the pattern, as `path: why` lines (empty when it matches). */
export function mismatches(pattern: unknown, actual: unknown, path = '$'): string[] {
  if (typeof pattern === 'string' && pattern.includes('…')) {
    if (pattern === '…') return actual === undefined ? [`${path}: missing`] : [];
    const glob = new RegExp(`^${pattern.split('…').map(escapeRegExp).join('.*')}$`, 's');
    return typeof actual === 'string' && glob.test(actual) ? [] : [`${path}: ${JSON.stringify(actual)} is not like ${JSON.stringify(pattern)}`];
  }
  if (Array.isArray(pattern)) {
    if (!Array.isArray(actual)) return [`${path}: expected an array, got ${JSON.stringify(actual)}`];
    const more = pattern.includes(MORE);
    const items = pattern.filter((item) => item !== MORE);
    if (more ? actual.length < items.length : actual.length !== items.length) return [`${path}: expected ${items.length}${more ? ' or more' : ''} items, got ${actual.length}`];
    return items.flatMap((item, i) => mismatches(item, actual[i], `${path}[${i}]`));
  }
  if (pattern !== null && typeof pattern === 'object') {
    if (actual === null || typeof actual !== 'object' || Array.isArray(actual)) return [`${path}: expected an object, got ${JSON.stringify(actual)}`];
    const expected = pattern as Record<string, unknown>;
    const got = actual as Record<string, unknown>;
    const keys = Object.keys(expected).filter((key) => key !== MORE);
    const problems = keys.flatMap((key) => (key in got ? mismatches(expected[key], got[key], `${path}.${key}`) : [`${path}.${key}: missing`]));
    if (!(MORE in expected)) problems.push(...Object.keys(got).filter((key) => !keys.includes(key)).map((key) => `${path}.${key}: not shown in the docs`));
    return problems;
  }
  return Object.is(pattern, actual) ? [] : [`${path}: expected ${JSON.stringify(pattern)}, got ${JSON.stringify(actual)}`];
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The first JSON value in a command's output (curl prints one body), if any. */
export function firstJson(output: string): unknown {
  const start = output.search(/[{[]/);
  if (start < 0) return undefined;
  const end = shownOutput([output.slice(start).replace(/\n/g, ' ')]);
  if (end === undefined) return undefined;
  try {
    return JSON.parse(end);
  } catch {
    return undefined;
  }
}
