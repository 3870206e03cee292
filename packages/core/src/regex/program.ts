/**
 * The linear-time matcher of `matches`: a pattern is compiled once into a Thompson NFA, which is
 * then simulated over the input one code point at a time, every live state at once (Pike's VM
 * without captures). Each step visits each instruction at most once, so a search costs at most
 * (input length + 1) × (program size) steps, whatever the pattern: there is no backtracking.
 */
import { BEGIN_LINE, BEGIN_TEXT, END_LINE, END_TEXT, NOT_WORD_BOUNDARY, PatternError, WORD_BOUNDARY, parse, type Node } from './parse.js';
import { has } from './ranges.js';

/**
 * The largest program a pattern may compile to (`x{1000}` is the largest repetition of one
 * character). With the 1,024-character cap on the input it bounds every search to about a
 * million steps, some 15 ms on one core, for the worst pattern there is.
 */
export const MAX_PROGRAM_SIZE = 1000;

/** Whether the pattern occurs anywhere in the input. */
export type Matcher = (input: string) => boolean;

const CHAR = 0;
const SPLIT = 1;
const JUMP = 2;
const ASSERT = 3;
const MATCH = 4;

/** The instructions `node` compiles to (see `emit`), without building them. */
export function programSize(node: Node): number {
  switch (node.k) {
    case 'set':
    case 'assert':
      return 1;
    case 'cat':
      return node.xs.reduce((sum, x) => sum + programSize(x), 0);
    case 'alt':
      return node.xs.reduce((sum, x) => sum + programSize(x), 0) + 2 * (node.xs.length - 1);
    case 'rep': {
      const { min, max } = node;
      const x = programSize(node.x);
      if (max < 0) return min ? min * x + 1 : x + 2;
      return max * x + (max - min);
    }
  }
}

const isWord = (c: number) => (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || c === 0x5f || (c >= 0x61 && c <= 0x7a);

function holds(assertion: number, s: string, i: number): boolean {
  switch (assertion) {
    case BEGIN_TEXT:
      return i === 0;
    case END_TEXT:
      return i === s.length;
    case BEGIN_LINE:
      return i === 0 || s.charCodeAt(i - 1) === 10;
    case END_LINE:
      return i === s.length || s.charCodeAt(i) === 10;
    case WORD_BOUNDARY:
    case NOT_WORD_BOUNDARY:
      return isWord(s.charCodeAt(i - 1)) !== isWord(s.charCodeAt(i)) === (assertion === WORD_BOUNDARY);
  }
  return false;
}

/**
 * Compiles a pattern of the `matches` dialect; throws a PatternError when it does not parse or
 * its program would exceed MAX_PROGRAM_SIZE. With `caseInsensitive` it is compiled as `(?i)`.
 */
export function compilePattern(pattern: string, caseInsensitive = false): Matcher {
  const root = parse(pattern, caseInsensitive);
  if (programSize(root) > MAX_PROGRAM_SIZE) throw new PatternError('tooLarge', pattern);
  // `^…` (not multi-line): an attempt can start only at 0, so the search ends when it dies.
  const first = root.k === 'cat' ? root.xs[0] : root;
  const anchored = first?.k === 'assert' && first.a === BEGIN_TEXT;
  const op: number[] = [];
  const x: number[] = [];
  const y: number[] = [];
  const sets: Array<number[] | undefined> = [];
  const add = (code: number, a = 0, b = 0, r?: number[]) => {
    sets.push(r);
    y.push(b);
    x.push(a);
    return op.push(code) - 1;
  };
  const emit = (node: Node): void => {
    if (node.k === 'set') add(CHAR, 0, 0, node.r);
    else if (node.k === 'assert') add(ASSERT, node.a);
    else if (node.k === 'cat') node.xs.forEach(emit);
    else if (node.k === 'alt') {
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
    } else {
      const { min, max } = node;
      if (max < 0 && min > 0) {
        // x{min,}: min - 1 copies, then x+.
        for (let k = 1; k < min; k++) emit(node.x);
        const loop = op.length;
        emit(node.x);
        add(SPLIT, loop, op.length + 1);
      } else if (max < 0) {
        const split = add(SPLIT, op.length + 1);
        emit(node.x);
        add(JUMP, split);
        y[split] = op.length;
      } else {
        for (let k = 0; k < min; k++) emit(node.x);
        const splits: number[] = [];
        for (let k = min; k < max; k++) {
          splits.push(add(SPLIT, op.length + 1));
          emit(node.x);
        }
        for (const s of splits) y[s] = op.length;
      }
    }
  };
  emit(root);
  add(MATCH);

  const size = op.length;
  const ops = Int32Array.from(op);
  const xs = Int32Array.from(x);
  const ys = Int32Array.from(y);
  const ascii = sets.map((r) => {
    // Code points below 128 tested by bit: most inputs are ASCII.
    const bits = new Int32Array(4);
    for (let c = 0; r && c < 128; c++) if (has(r, c)) bits[c >> 5]! |= 1 << (c & 31);
    return bits;
  });
  // Two sparse sets of instructions (this step's states and the next step's) and a work stack,
  // allocated once: a search allocates nothing.
  let dense = new Int32Array(size);
  let sparse = new Int32Array(size);
  let nextDense = new Int32Array(size);
  let nextSparse = new Int32Array(size);
  let n = 0;
  let nextN = 0;
  const stack = new Int32Array(size);

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
      } else if (code === ASSERT && holds(xs[t]!, s, i)) stack[top++] = t + 1;
    }
    return false;
  };

  return (s) => {
    nextN = 0;
    for (let i = 0; ; ) {
      // Unanchored: a new attempt starts at every position.
      if ((i === 0 || !anchored) && follow(0, s, i)) return true;
      if (i >= s.length || (anchored && nextN === 0)) return false;
      const d = dense;
      const sp = sparse;
      dense = nextDense;
      sparse = nextSparse;
      nextDense = d;
      nextSparse = sp;
      n = nextN;
      nextN = 0;
      let c = s.charCodeAt(i);
      let width = 1;
      if (c >= 0xd800 && c <= 0xdbff) {
        const low = s.charCodeAt(i + 1);
        if (low >= 0xdc00 && low <= 0xdfff) {
          c = 0x10000 + ((c - 0xd800) << 10) + (low - 0xdc00);
          width = 2;
        }
      }
      i += width;
      for (let j = 0; j < n; j++) {
        const pc = dense[j]!;
        if (ops[pc] !== CHAR) continue;
        const hit = c < 128 ? (ascii[pc]![c >> 5]! >>> (c & 31)) & 1 : has(sets[pc]!, c);
        if (hit && follow(pc + 1, s, i)) return true;
      }
    }
  };
}
