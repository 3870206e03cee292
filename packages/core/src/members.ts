import type { Cohort, Ruleset } from './types.js';

/**
 * A cohort list of many keys held compactly: the keys in one string, separated by NUL (no key
 * holds one: the server refuses NUL in every string it takes), and an open-addressing table of
 * where each key starts. It costs about the keys' own bytes plus 6.3 bytes per key, where an array
 * of strings costs some 30 bytes per key beyond them and a `Set` of those strings as much again.
 * `has` is O(1): one FNV-1a hash and, per probe, one comparison in place.
 *
 * The evaluator and the protocol's diff take it wherever a cohort's `included` or `excluded`
 * array may stand (they look for `has` and `equalsJson`, which JSON data cannot have); it
 * serializes as the array it replaces.
 */
export class MemberSet {
  /** Distinct keys. */
  readonly size: number;
  private readonly text: string;
  private readonly slots: Uint32Array;

  private constructor(keys: readonly string[]) {
    this.text = keys.join('\u0000');
    // Load factor at most 0.75: a probe sequence stays short.
    this.slots = new Uint32Array(Math.max(4, Math.ceil(keys.length / 0.75)));
    let size = 0;
    let start = 0;
    for (const key of keys) {
      const slot = this.slotOf(key);
      if (this.slots[slot] === 0) {
        this.slots[slot] = start + 1;
        size++;
      }
      start += key.length + 1;
    }
    this.size = size;
  }

  /** The keys as a MemberSet; undefined when one is not a string or holds a NUL (left as an array then). */
  static from(keys: readonly unknown[]): MemberSet | undefined {
    for (const key of keys) if (typeof key !== 'string' || key.includes('\u0000')) return undefined;
    return new MemberSet(keys as string[]);
  }

  has(key: string): boolean {
    // A key with a NUL would match across two held keys; none is held.
    return this.slots[this.slotOf(key)] !== 0 && !key.includes('\u0000');
  }

  /** Whether `other` (a MemberSet or a list of keys) holds exactly these keys, in any order. */
  equalsJson(other: unknown): boolean {
    if (other instanceof MemberSet) return other.size === this.size && other.toJSON().every((key) => this.has(key));
    if (!Array.isArray(other)) return false;
    const distinct = MemberSet.from(other);
    return distinct !== undefined && distinct.size === this.size && other.every((key: string) => this.has(key));
  }

  /** The distinct keys, in the order they were given (what `JSON.stringify` writes). */
  toJSON(): string[] {
    const keys: string[] = [];
    let start = 0;
    for (const key of this.text.split('\u0000')) {
      if (this.slots[this.slotOf(key)] === start + 1) keys.push(key);
      start += key.length + 1;
    }
    return this.size === 0 ? [] : keys;
  }

  /** The slot holding `key`, or the empty slot where it would go. */
  private slotOf(key: string): number {
    let hash = 0x811c9dc5;
    for (let i = 0; i < key.length; i++) hash = Math.imul(hash ^ key.charCodeAt(i), 0x01000193);
    const { slots, text } = this;
    let slot = (hash >>> 0) % slots.length;
    for (;;) {
      const held = slots[slot];
      if (held === 0) return slot;
      const start = held - 1;
      const end = start + key.length;
      if (text.startsWith(key, start) && (end === text.length || text.charCodeAt(end) === 0)) return slot;
      slot = slot + 1 === slots.length ? 0 : slot + 1;
    }
  }
}

/** Lists shorter than this stay arrays: a `Set` of a few keys costs little, and patches stay plain data. */
export const COMPACT_FROM = 1000;

const compacted = new WeakMap<Cohort, Cohort>();

/**
 * The ruleset with every cohort list of `COMPACT_FROM` keys or more held as a `MemberSet` (the
 * ruleset itself when there is none), so the arrays the JSON parser made can be collected. A cohort
 * object is compacted once: the rulesets that share it (each next revision's, while it did not
 * change) share the result. Evaluations answer exactly as from the arrays.
 */
export function compactCohorts(ruleset: Ruleset): Ruleset {
  let cohorts: Record<string, Cohort> | undefined;
  for (const key in ruleset.cohorts) {
    const cohort = ruleset.cohorts[key];
    const small = (list: unknown) => !Array.isArray(list) || list.length < COMPACT_FROM;
    if (typeof cohort !== 'object' || cohort === null || (small(cohort.included) && small(cohort.excluded))) continue;
    let compact = compacted.get(cohort);
    if (compact === undefined) {
      const list = (keys: string[] | undefined) => (small(keys) ? keys : ((MemberSet.from(keys!) ?? keys) as unknown as string[]));
      compact = { ...cohort, included: list(cohort.included), excluded: list(cohort.excluded) };
      compacted.set(cohort, compact);
      compacted.set(compact, compact);
    }
    if (compact !== cohort) (cohorts ??= { ...ruleset.cohorts })[key] = compact;
  }
  return cohorts ? { ...ruleset, cohorts } : ruleset;
}
