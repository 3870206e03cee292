/**
 * The linear-time matcher of `matches`. A pattern compiles once into a Thompson NFA; a search
 * runs every live state at once, one code point at a time (Pike's VM without captures), so it
 * never backtracks: each step visits each instruction at most once, and a search costs at most
 * (input length + 1) × (program size) steps, whatever the pattern.
 * Each step's set of states is also remembered as a DFA state with its transitions (RE2's lazy
 * DFA, per character class and the little lookahead that `$`, `\b` need), so the usual search
 * is one table read per character; past MAX_DFA_ENTRIES the search goes on without the cache.
 */
import {
  ALT, ASSERT, BEGIN_LINE, BEGIN_TEXT, CAT, END_LINE, END_TEXT, PatternError, SET, TOO_LARGE, WORD_BOUNDARY, parse,
  type Node,
} from './parse.js';
import { has } from './ranges.js';

/**
 * The largest program a pattern may compile to (`x{1000}` is the largest repetition of one
 * character). With the 1,024-character cap on the input it bounds every search to about a
 * million steps, some 15 ms on one core for the worst pattern there is.
 */
export const MAX_PROGRAM_SIZE = 1000;
/** Transition slots cached per pattern (4 bytes each: 64 KB at most). */
const MAX_DFA_ENTRIES = 1 << 14;

/** Whether the pattern occurs anywhere in the input. */
export type Matcher = (input: string) => boolean;

const CHAR = 0;
const SPLIT = 1;
const JUMP = 2;
const TEST = 3;
const MATCH = 4;

const isWord = (c: number) => (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || c === 95 || (c >= 97 && c <= 122);

function holds(assertion: number, s: string, i: number): boolean {
  if (assertion === BEGIN_TEXT) return i === 0;
  if (assertion === END_TEXT) return i === s.length;
  if (assertion === BEGIN_LINE) return i === 0 || s.charCodeAt(i - 1) === 10;
  if (assertion === END_LINE) return i === s.length || s.charCodeAt(i) === 10;
  return isWord(s.charCodeAt(i - 1)) !== isWord(s.charCodeAt(i)) === (assertion === WORD_BOUNDARY);
}

/**
 * Compiles a pattern of the `matches` dialect; throws a PatternError when it does not parse or
 * its program would exceed MAX_PROGRAM_SIZE. With `caseInsensitive` it is compiled as `(?i)`.
 */
export const compilePattern = (pattern: string, caseInsensitive = false): Matcher => compileTree(parse(pattern, caseInsensitive), pattern);

/** Emitting nothing (an empty group repeated) is counted too: no tree, even one that did not come
 *  from `parse`, costs more than this many steps to compile. */
const MAX_EMITS = 100_000;

/**
 * Compiles a parsed pattern (what `parse` makes, or a client key's `parsed` form decoded); throws
 * a PatternError (TOO_LARGE, naming `pattern`) when its program would exceed MAX_PROGRAM_SIZE.
 */
export function compileTree(root: Node, pattern = ''): Matcher {
  let emits = 0;
  const op: number[] = [];
  const x: number[] = [];
  const y: number[] = [];
  const sets: number[][] = [];
  const add = (code: number, a = 0, r: number[] = []) => {
    // Checked as it grows: a refused pattern never builds its whole program.
    if (op.length >= MAX_PROGRAM_SIZE + 1) throw new PatternError(TOO_LARGE, pattern);
    sets.push(r);
    y.push(0);
    x.push(a);
    return op.push(code) - 1;
  };
  const emit = (node: Node): void => {
    if (++emits > MAX_EMITS) throw new PatternError(TOO_LARGE, pattern);
    if (node.k === SET) add(CHAR, 0, node.r);
    else if (node.k === ASSERT) add(TEST, node.a);
    else if (node.k === CAT) node.xs.forEach(emit);
    else if (node.k === ALT) {
      // split L1, L2; L1: x0; jump end; L2: split …; last: xn
      const jumps: number[] = [];
      node.xs.forEach((branch, k) => {
        const split = k < node.xs.length - 1 ? add(SPLIT, op.length + 1) : -1;
        emit(branch);
        if (split >= 0) {
          jumps.push(add(JUMP));
          y[split] = op.length;
        }
      });
      for (const j of jumps) x[j] = op.length;
    } else if (node.max < 0) {
      // x{min,}: min - 1 copies, then x+ (or x* for min 0).
      for (let k = 1; k < node.min; k++) emit(node.x);
      const top = node.min ? op.length : add(SPLIT, op.length + 1);
      emit(node.x);
      if (node.min) y[add(SPLIT, top)] = op.length;
      else {
        add(JUMP, top);
        y[top] = op.length;
      }
    } else {
      for (let k = 0; k < node.min; k++) emit(node.x);
      const splits: number[] = [];
      for (let k = node.min; k < node.max; k++) {
        splits.push(add(SPLIT, op.length + 1));
        emit(node.x);
      }
      for (const s of splits) y[s] = op.length;
    }
  };
  emit(root);
  add(MATCH);

  const size = op.length;
  const ops = Int32Array.from(op);
  const xs = Int32Array.from(x);
  const ys = Int32Array.from(y);
  // `^…` (not multi-line): an attempt starts only at 0, and the search ends when it dies.
  const first = root.k === CAT ? root.xs[0] : root;
  const anchored = first?.k === ASSERT && first.a === BEGIN_TEXT;
  // Characters in one class are alike to every instruction (and to `$`, `^` and `\b`: newline and word characters get classes of their own).
  const bounds = [...new Set([10, 11, 48, 58, 65, 91, 95, 96, 97, 123, ...sets.flatMap((r) => r.map((v, k) => v + (k & 1)))])].sort((a, b) => a - b);
  const classOf = (c: number) => {
    let lo = 0;
    let hi = bounds.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (bounds[mid]! <= c) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  const asciiClass = Int32Array.from({ length: 128 }, (_, c) => classOf(c));
  // What `$`, `\b` and `(?m)$` need of the next character: the end, a newline, a word character, else.
  const lookahead = op.some((code, pc) => code === TEST && xs[pc] !== BEGIN_TEXT && xs[pc] !== BEGIN_LINE);
  const slots = (bounds.length + 1) * (lookahead ? 4 : 1);
  const next4 = (s: string, j: number) => {
    const c = s.charCodeAt(j);
    return !lookahead ? 0 : j >= s.length ? 3 : c === 10 ? 1 : isWord(c) ? 2 : 0;
  };

  // Two sparse sets of instructions (this step's, the next step's) and a work stack.
  let dense = new Int32Array(size);
  let sparse = new Int32Array(size);
  let nextDense = new Int32Array(size);
  let nextSparse = new Int32Array(size);
  let nextN = 0;
  const stack = new Int32Array(size);
  // DFA states: their instructions, their transitions (0 unknown, -1 a match, else state + 1).
  const stateChars: Int32Array[] = [];
  const transitions: Int32Array[] = [];
  const stateIds = new Map<string, number>();
  const initial = new Int32Array(4);

  /** Adds `pc` and all it reaches without reading (jumps, splits, assertions that hold at `i`) to the next list; true on a match. */
  const follow = (pc: number, s: string, i: number): boolean => {
    let top = 0;
    stack[top++] = pc;
    while (top > 0) {
      const t = stack[--top]!;
      const j = nextSparse[t]!;
      if (j < nextN && nextDense[j] === t) continue;
      nextSparse[t] = nextN;
      nextDense[nextN++] = t;
      const code = ops[t];
      if (code === MATCH) return true;
      if (code === JUMP) stack[top++] = xs[t]!;
      else if (code === SPLIT) {
        stack[top++] = ys[t]!;
        stack[top++] = xs[t]!;
      }
      else if (code === TEST && holds(xs[t]!, s, i)) stack[top++] = t + 1;
    }
    return false;
  };

  /** The next list, at `j`, from the instructions `list[0..count)` reading `c`; true on a match. */
  const step = (list: Int32Array, count: number, c: number, s: string, j: number): boolean => {
    nextN = 0;
    for (let k = 0; k < count; k++) {
      const pc = list[k]!;
      if (ops[pc] === CHAR && has(sets[pc]!, c) && follow(pc + 1, s, j)) return true;
    }
    // Unanchored: a new attempt starts at every position.
    return !anchored && follow(0, s, j);
  };

  /** The DFA state (+ 1) of the next list; 0 when the cache is full. */
  const intern = (): number => {
    const chars: number[] = [];
    for (let k = 0; k < nextN; k++) if (ops[nextDense[k]!] === CHAR) chars.push(nextDense[k]!);
    const key = chars.sort((a, b) => a - b).join();
    let id = stateIds.get(key);
    if (id === undefined) {
      if ((stateChars.length + 1) * slots > MAX_DFA_ENTRIES) return 0;
      stateIds.set(key, (id = stateChars.length));
      stateChars.push(Int32Array.from(chars));
      transitions.push(new Int32Array(slots));
    }
    return id + 1;
  };

  /** Makes the next list the current one (when the DFA cache is full). */
  const swap = () => {
    const d = dense;
    const sp = sparse;
    dense = nextDense;
    sparse = nextSparse;
    nextDense = d;
    nextSparse = sp;
    return dense;
  };

  return (s) => {
    let context = next4(s, 0);
    let v = initial[context]!;
    if (!v) {
      nextN = 0;
      v = initial[context] = follow(0, s, 0) ? -1 : intern();
    }
    // The current list: a DFA state's instructions and transitions, or (cache full) the NFA's own.
    for (let i = 0; v >= 0; ) {
      const t = transitions[v - 1];
      const list = v ? stateChars[v - 1]! : swap();
      const count = v ? list.length : nextN;
      if (i >= s.length || (anchored && !count)) return false;
      const c = s.codePointAt(i)!;
      i += c > 0xffff ? 2 : 1;
      context = next4(s, i);
      const slot = (c < 128 ? asciiClass[c]! : classOf(c)) * (lookahead ? 4 : 1) + context;
      v = t?.[slot] || (step(list, count, c, s, i) ? -1 : intern());
      if (t) t[slot] = v;
    }
    return true;
  };
}
