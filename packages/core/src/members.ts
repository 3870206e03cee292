import type { Cohort, Ruleset } from './types.js';

/** Thrown by the constructor at a key with a NUL, caught by `from`. */
const NUL_KEY = new Error('a member key holds a NUL');

/**
 * A cohort list of many keys held compactly: the keys in one string, separated by NUL (no key
 * holds one: the server refuses NUL in every string it takes), and an open-addressing table of
 * where each key starts, with a byte of each key's hash. It costs about the keys' own bytes plus
 * 7.7 bytes per key, where an array of strings costs some 30 bytes per key beyond them and a `Set`
 * of those strings as much again. `has` is O(1): one FNV-1a hash and, per probe, one byte compared
 * and, when it matches, the key in place.
 *
 * The evaluator and the protocol's diff take it wherever a cohort's `included` or `excluded`
 * array may stand (they look for `has` and `equalsJson`, which JSON data cannot have); it
 * serializes as the array it replaces.
 */
export class MemberSet implements HeldMembers {
  /** Distinct keys. */
  readonly size: number;
  private readonly text: string;
  private readonly slots: Uint32Array;
  /** A byte of each held key's hash, by slot: a probe compares it before comparing the key. */
  private readonly tags: Uint8Array;
  /** The tag of the key `slotOf` looked up last: what the constructor stores with a new key. */
  private lastTag = 0;

  private constructor(keys: readonly string[]) {
    this.text = keys.join('\u0000');
    // Load factor at most 0.75: a probe sequence stays short.
    this.slots = new Uint32Array(Math.max(4, Math.ceil(keys.length / 0.75)));
    this.tags = new Uint8Array(this.slots.length);
    let size = 0;
    let start = 0;
    for (const key of keys) {
      const slot = this.slotOf(key);
      if (slot < 0) throw NUL_KEY;
      if (this.slots[slot] === 0) {
        this.slots[slot] = start + 1;
        this.tags[slot] = this.lastTag;
        size++;
      }
      start += key.length + 1;
    }
    this.size = size;
  }

  /** The keys as a MemberSet; undefined when one is not a string or holds a NUL (left as an array then). */
  static from(keys: readonly unknown[]): MemberSet | undefined {
    for (const key of keys) if (typeof key !== 'string') return undefined;
    try {
      return new MemberSet(keys as string[]);
    } catch (e) {
      if (e === NUL_KEY) return undefined;
      throw e;
    }
  }

  has(key: string): boolean {
    const slot = this.slotOf(key);
    return slot >= 0 && this.slots[slot] !== 0;
  }

  /** Whether `other` (a held list or a list of keys) holds exactly these keys, in any order. */
  equalsJson(other: unknown): boolean {
    return sameMembers(this, other);
  }

  /** These keys without those in `drop`, with those in `add`: a delta (protocol 2's `members`). */
  patched(drop: ReadonlySet<string>, add: readonly string[]): HeldMembers {
    return new PatchedMembers(this, new Set(), new Set()).patched(drop, add);
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

  /** The slot holding `key`, or the empty slot where it would go; -1 for a key with a NUL, which
   *  would match across two held keys (the hash loop sees every character anyway). */
  private slotOf(key: string): number {
    let hash = 0x811c9dc5;
    for (let i = 0; i < key.length; i++) {
      const c = key.charCodeAt(i);
      if (c === 0) return -1;
      hash = Math.imul(hash ^ c, 0x01000193);
    }
    const { slots, tags, text } = this;
    const tag = (this.lastTag = hash >>> 24);
    let slot = (hash >>> 0) % slots.length;
    for (;;) {
      const held = slots[slot];
      if (held === 0) return slot;
      const start = held - 1;
      const end = start + key.length;
      if (tags[slot] === tag && text.startsWith(key, start) && (end === text.length || text.charCodeAt(end) === 0)) return slot;
      slot = slot + 1 === slots.length ? 0 : slot + 1;
    }
  }
}

/** A cohort list held as something other than an array: a `MemberSet`, or one with deltas applied. */
export interface HeldMembers {
  readonly size: number;
  has(key: string): boolean;
  equalsJson(other: unknown): boolean;
  patched(drop: ReadonlySet<string>, add: readonly string[]): HeldMembers;
  toJSON(): string[];
}

/** Whether a cohort list is held (a `MemberSet` or one patched from it) rather than an array. */
export function isHeld(value: unknown): value is HeldMembers {
  return typeof (value as HeldMembers | null)?.patched == 'function';
}

function sameMembers(held: HeldMembers, other: unknown): boolean {
  if (isHeld(other)) {
    if (other.size !== held.size) return false;
    // Two states of one base (a delta made one from the other): the deltas tell, not the keys.
    const [a, b] = [layers(held), layers(other)];
    if (a.base === b.base) return sameKeys(a.added, b.added) && sameKeys(a.removed, b.removed);
    return other.toJSON().every((key) => held.has(key));
  }
  if (!Array.isArray(other)) return false;
  const distinct = MemberSet.from(other);
  return distinct !== undefined && distinct.size === held.size && other.every((key: string) => held.has(key));
}

const NONE: ReadonlySet<string> = new Set();

/** A held list as a base `MemberSet` and what deltas added to it and removed from it. */
function layers(held: HeldMembers): { base: HeldMembers; added: ReadonlySet<string>; removed: ReadonlySet<string> } {
  return held instanceof PatchedMembers ? held : { base: held, added: NONE, removed: NONE };
}

function sameKeys(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  if (a.size !== b.size) return false;
  for (const key of a) if (!b.has(key)) return false;
  return true;
}

/**
 * A `MemberSet` with deltas applied on top: the keys added that it lacks and the keys removed
 * that it holds. A delta copies only these two sets, so a one-key change to a million-key cohort
 * costs a few keys; once they grow past an eighth of the base (at least `COMPACT_FROM` keys), the
 * keys are built into a new `MemberSet`.
 */
class PatchedMembers implements HeldMembers {
  readonly size: number;

  constructor(
    readonly base: MemberSet,
    readonly added: ReadonlySet<string>,
    readonly removed: ReadonlySet<string>,
  ) {
    this.size = base.size + added.size - removed.size;
  }

  has(key: string): boolean {
    return this.added.has(key) || (!this.removed.has(key) && this.base.has(key));
  }

  equalsJson(other: unknown): boolean {
    return sameMembers(this, other);
  }

  patched(drop: ReadonlySet<string>, add: readonly string[]): HeldMembers {
    const added = new Set(this.added);
    const removed = new Set(this.removed);
    for (const key of drop) {
      added.delete(key);
      if (this.base.has(key)) removed.add(key);
    }
    for (const key of add) {
      if (this.base.has(key)) removed.delete(key);
      else added.add(key);
    }
    const next = new PatchedMembers(this.base, added, removed);
    return added.size + removed.size > Math.max(COMPACT_FROM, this.base.size / 8) ? (MemberSet.from(next.toJSON()) ?? next) : next;
  }

  /** The base's keys in their order without the removed ones, then the added ones. */
  toJSON(): string[] {
    const keys = this.removed.size === 0 ? this.base.toJSON() : this.base.toJSON().filter((key) => !this.removed.has(key));
    for (const key of this.added) keys.push(key);
    return keys;
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
    const compact = compactCohort(cohort);
    if (compact !== cohort) (cohorts ??= { ...ruleset.cohorts })[key] = compact;
  }
  return cohorts ? { ...ruleset, cohorts } : ruleset;
}

/** The cohort with its lists of `COMPACT_FROM` keys or more held as `MemberSet`s (itself when it has none), made once per cohort object. */
export function compactCohort(cohort: Cohort): Cohort {
  const small = (list: unknown) => !Array.isArray(list) || list.length < COMPACT_FROM;
  if (typeof cohort !== 'object' || cohort === null || (small(cohort.included) && small(cohort.excluded))) return cohort;
  let compact = compacted.get(cohort);
  if (compact === undefined) {
    const list = (keys: string[] | undefined) => (small(keys) ? keys : ((MemberSet.from(keys!) ?? keys) as unknown as string[]));
    compact = { ...cohort, included: list(cohort.included), excluded: list(cohort.excluded) };
    compacted.set(cohort, compact);
    compacted.set(compact, compact);
  }
  return compact;
}
