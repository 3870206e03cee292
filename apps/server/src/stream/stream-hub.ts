import type { ServerResponse } from 'node:http';
import type { CredentialRef } from '../credentials/credential.js';
import type { PlanNotice } from './plan-notices.js';
import { clientPatch, publicPatch, type RulesetChange, type RulesetSnapshot } from './snapshot.js';
import { SSE_HEARTBEAT, SSE_HEARTBEAT_GZIP, gzipFrame, openEventStream, sseEvent, writeFrame } from './sse.js';

const REFUSED_FOR_MS = 10 * 60_000;
const MAX_REFUSED = 10_000;

/** One open stream. Client-key streams see only what that user may see. */
export interface Subscriber {
  readonly environment: string;
  readonly res: ServerResponse;
  /** What authenticated it (a key; later a session and its person): revoking any ends the stream. */
  readonly credentials: readonly CredentialRef[];
  /** Set for client keys: the user's context key (may be undefined when the page sent none). */
  readonly client?: { userKey: string | undefined };
  /** Frames go as gzip members (`gzipFrame`): set for server-key SDK streams that accept gzip. */
  readonly gzip?: boolean;
  /** The SDK protocol it announced (`?protocol=`): 2 understands membership deltas; absent is 1. */
  readonly protocol?: number;
  /** The revision this subscriber holds. */
  revision: number;
  /** Set for streams of another protocol (OFREP's): told of each revision instead of sent it. */
  readonly notify?: (change: RulesetChange, snapshot: RulesetSnapshot) => void;
  /** Set for the dashboard's streams: told when a rollout plan of its environment changed. */
  readonly onPlan?: (notice: PlanNotice) => void;
}

/**
 * The open SSE streams of this instance, by environment. Every change reaches each subscriber in
 * revision order with no gap; a subscriber that is behind gets the whole ruleset instead.
 */
export class StreamHub {
  private readonly byEnvironment = new Map<string, Set<Subscriber>>();
  private heartbeat?: NodeJS.Timeout;
  private accepting = true;
  /** Credentials whose streams were ended, with when: a stream authenticated just before the
   *  revocation may reach `open` after it, and must not. */
  private readonly refused = new Map<CredentialRef, number>();
  private readonly pending: Array<() => void> = [];

  constructor(private readonly heartbeatMs = 15_000) {}

  start(): void {
    this.heartbeat ??= setInterval(() => this.ping(), this.heartbeatMs);
    this.heartbeat.unref();
  }

  get size(): number {
    let n = 0;
    for (const set of this.byEnvironment.values()) n += set.size;
    return n;
  }

  get isAccepting(): boolean {
    return this.accepting;
  }

  /**
   * Opens the stream and sends what the subscriber lacks: missed changes or the whole ruleset;
   * with `reset`, the whole ruleset marked as a reset (the subscriber's revision is from a history
   * the database no longer has).
   */
  open(sub: Subscriber, snapshot: RulesetSnapshot, missed: readonly RulesetChange[] | undefined, reset = false): void {
    openEventStream(sub.res, sub.gzip);
    let set = this.byEnvironment.get(sub.environment);
    if (set === undefined) this.byEnvironment.set(sub.environment, (set = new Set()));
    set.add(sub);
    sub.res.on('close', () => set.delete(sub));
    if (missed !== undefined) {
      for (const change of missed) this.send(sub, change, snapshot, true);
    }
    // Never move a client backwards: one that is ahead of this instance waits for it to catch up.
    if (reset || sub.revision < snapshot.revision) this.sendRuleset(sub, snapshot, reset);
  }

  /** The environment's history was rewound: every subscriber gets its ruleset, marked as a reset. */
  reset(environment: string, snapshot: RulesetSnapshot): void {
    this.defer(() => {
      for (const sub of this.byEnvironment.get(environment) ?? []) this.sendRuleset(sub, snapshot, true);
    });
  }

  /** Pushes a committed change, already applied to `snapshot`, to every subscriber of its
   *  environment, once the current turn of the event loop is over (see `defer`). */
  publish(change: RulesetChange, snapshot: RulesetSnapshot): void {
    this.defer(() => this.fanOut(change, snapshot));
  }

  /**
   * Runs `send` after the work of this turn: the write that committed a change answers its caller
   * before this instance writes the change to its open streams (thousands of sockets), as the
   * other instances do, instead of making the caller wait for them. The snapshot the change went
   * into is already current, so an evaluation after the answer sees it. One queue keeps the
   * sends in the order they were asked for.
   */
  private defer(send: () => void): void {
    this.pending.push(send);
    if (this.pending.length > 1) return;
    setImmediate(() => {
      // Sends queued by these sends (none today) run in this same pass, in order.
      for (let i = 0; i < this.pending.length; i++) this.pending[i]();
      this.pending.length = 0;
    });
  }

  private fanOut(change: RulesetChange, snapshot: RulesetSnapshot): void {
    const set = this.byEnvironment.get(change.environment);
    if (set === undefined || set.size === 0) return;
    // Server keys all receive the same bytes: serialized once, when the first of them needs them
    // (not at all when every stream gets the whole ruleset or is a client key's).
    let shared: string | undefined;
    let sharedGzip: Buffer | undefined;
    const frame = () => (shared ??= sseEvent(change.kind === 'kill' ? 'kill' : 'change', change.revision, JSON.stringify(publicPatch(change.patch))));
    for (const sub of set) {
      if (sub.revision >= change.revision) continue;
      if (sub.notify) {
        sub.notify(change, snapshot);
        sub.revision = change.revision;
      } else if (sub.revision !== change.revision - 1 || needsWhole(sub, change)) this.sendRuleset(sub, snapshot);
      else if (sub.client === undefined) {
        if (writeFrame(sub.res, sub.gzip ? (sharedGzip ??= gzipFrame(frame())) : frame())) sub.revision = change.revision;
      } else this.send(sub, change, snapshot, false);
    }
  }

  /** Tells the streams that want it (the dashboard's) that a plan of their environment changed. */
  planChanged(notice: PlanNotice): void {
    this.defer(() => {
      for (const sub of this.byEnvironment.get(notice.environment) ?? []) sub.onPlan?.(notice);
    });
  }

  /** The credentials the open streams were authenticated with. */
  credentials(): Set<CredentialRef> {
    const refs = new Set<CredentialRef>();
    for (const set of this.byEnvironment.values()) for (const sub of set) for (const ref of sub.credentials) refs.add(ref);
    return refs;
  }

  /** Whether a credential's streams were ended as revoked: then a new one is refused. */
  isRefused(credential: CredentialRef): boolean {
    return this.refused.has(credential);
  }

  /** Ends every open stream authenticated by `credential` (revoked) and refuses new ones; answers
   *  how many it ended. */
  endFor(credential: CredentialRef): number {
    const now = Date.now();
    // Longer than any request takes from its authentication to opening its stream.
    for (const [ref, at] of this.refused) if (now - at > REFUSED_FOR_MS) this.refused.delete(ref);
    if (this.refused.size >= MAX_REFUSED) this.refused.delete(this.refused.keys().next().value!);
    this.refused.set(credential, now);
    let ended = 0;
    for (const set of this.byEnvironment.values()) {
      for (const sub of set) {
        if (!sub.credentials.includes(credential)) continue;
        set.delete(sub);
        sub.res.end();
        ended++;
      }
    }
    return ended;
  }

  /** Stops taking streams and closes the open ones so their clients reconnect elsewhere. */
  drain(): void {
    this.accepting = false;
    if (this.heartbeat) clearInterval(this.heartbeat);
    for (const set of this.byEnvironment.values()) for (const sub of set) sub.res.end();
    this.byEnvironment.clear();
  }

  private send(sub: Subscriber, change: RulesetChange, snapshot: RulesetSnapshot, replay: boolean): void {
    if (sub.revision >= change.revision) return;
    if (sub.revision !== change.revision - 1 || needsWhole(sub, change)) {
      if (!replay) this.sendRuleset(sub, snapshot);
      return;
    }
    const patch = sub.client ? clientPatch(change.patch, snapshot, sub.client.userKey) : publicPatch(change.patch);
    if (patch === undefined) {
      // The patch cannot be cut for a client without knowing what it holds: a replay stops here and
      // the caller sends the whole client ruleset.
      if (!replay) this.sendRuleset(sub, snapshot);
      return;
    }
    const frame = sseEvent(change.kind === 'kill' ? 'kill' : 'change', change.revision, JSON.stringify(patch));
    if (writeFrame(sub.res, sub.gzip ? gzipFrame(frame) : frame)) sub.revision = change.revision;
  }

  private sendRuleset(sub: Subscriber, snapshot: RulesetSnapshot, reset = false): void {
    if (sub.notify) {
      sub.notify({ environment: sub.environment, revision: snapshot.revision, kind: 'ruleset', patch: { revision: snapshot.revision } }, snapshot);
      sub.revision = snapshot.revision;
      return;
    }
    const frame = sub.gzip ? gzipRulesetFrame(snapshot, reset) : sub.client ? sseEvent('ruleset', snapshot.revision, rulesetJson(snapshot, sub.client, reset)) : plainRulesetFrame(snapshot, reset);
    if (writeFrame(sub.res, frame)) sub.revision = snapshot.revision;
  }

  private ping(): void {
    for (const set of this.byEnvironment.values()) for (const sub of set) writeFrame(sub.res, sub.gzip ? SSE_HEARTBEAT_GZIP : SSE_HEARTBEAT);
  }
}

/** Whether a change reaches this subscriber only as a whole ruleset: the change is one no patch
 *  describes, or a membership delta (`members`) for a client of protocol 1, which knows none. */
function needsWhole(sub: Subscriber, change: RulesetChange): boolean {
  return change.kind === 'ruleset' || (change.patch.members !== undefined && (sub.protocol ?? 1) < 2);
}

/**
 * A server key's `ruleset` event in gzip (only server-key streams are compressed), made once per
 * snapshot for all the streams it goes to: three members, the frame's head, the snapshot's own
 * gzip (the one `GET /sdk/v1/ruleset` sends) and the frame's end; the reset form, whose JSON
 * differs, compressed whole. A reset goes to every stream of the environment at once.
 */
function gzipRulesetFrame(snapshot: RulesetSnapshot, reset: boolean): Buffer {
  const frames = framesOf(snapshot);
  if (reset) return (frames.gzipReset ??= gzipFrame(sseEvent('ruleset', snapshot.revision, rulesetJson(snapshot, undefined, true))));
  return (frames.gzip ??= Buffer.concat([gzipFrame(`id: ${snapshot.revision}\nevent: ruleset\ndata: `), snapshot.toGzip(), FRAME_END_GZIP]));
}

/**
 * A server key's `ruleset` event uncompressed, as bytes made once per snapshot: every stream that
 * needs it (a reconnect storm after a restart, protocol 1 SDKs after a membership change) is
 * written the same buffer, where a string would be built and encoded again for each (100 streams
 * of a 2.7 MB ruleset: 0.94 s of CPU before, `npm run bench:cohorts`).
 */
function plainRulesetFrame(snapshot: RulesetSnapshot, reset: boolean): Buffer {
  const frames = framesOf(snapshot);
  if (reset) return (frames.plainReset ??= Buffer.from(sseEvent('ruleset', snapshot.revision, rulesetJson(snapshot, undefined, true))));
  return (frames.plain ??= Buffer.from(sseEvent('ruleset', snapshot.revision, snapshot.toJSON())));
}

function framesOf(snapshot: RulesetSnapshot): RulesetFrames {
  let frames = rulesetFrames.get(snapshot);
  if (frames === undefined) rulesetFrames.set(snapshot, (frames = {}));
  return frames;
}

/** A snapshot's whole-ruleset frames for server keys, each made when a stream first needs it. */
interface RulesetFrames {
  gzip?: Buffer;
  gzipReset?: Buffer;
  plain?: Buffer;
  plainReset?: Buffer;
}

const rulesetFrames = new WeakMap<RulesetSnapshot, RulesetFrames>();
const FRAME_END_GZIP = gzipFrame('\n\n');

/**
 * A ruleset as JSON, for a server key or for one browser user; with `reset: true` when it replaces
 * a revision the database no longer has (docs/protocol.md "Resets"), so SDKs take it although
 * its revision is lower than theirs.
 */
export function rulesetJson(snapshot: RulesetSnapshot, client: { userKey: string | undefined } | undefined, reset: boolean): string {
  const json = client ? JSON.stringify(snapshot.forClient(client.userKey)) : snapshot.toJSON();
  return reset ? `{"reset":true,${json.slice(1)}` : json;
}
