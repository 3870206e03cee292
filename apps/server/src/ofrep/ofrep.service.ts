import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Injectable, ServiceUnavailableException, UnauthorizedException } from '@nestjs/common';
import { evaluate, type Flag, type Ruleset } from '@aviary/core';
import type { AuthenticatedKey } from '../common/actor.js';
import { presentedToken } from '../common/auth.js';
import { credentialRef } from '../credentials/credential.js';
import { SdkService, revisionOf } from '../sdk/sdk.service.js';
import { LiveRulesets } from '../stream/live-rulesets.js';
import type { RulesetSnapshot } from '../stream/snapshot.js';
import { StreamHub } from '../stream/stream-hub.js';
import { toContext } from './ofrep-context.js';
import { notifyRefetch } from './ofrep-events.js';
import { OfrepExposures } from './ofrep-exposures.js';
import { toOfrep, type OfrepEvaluation } from './ofrep-result.js';

/** Where a client key's OFREP event stream is (the path takes `?clientKey=`, as EventSource sends no headers). */
export const OFREP_STREAM_PATH = '/sdk/v1/ofrep-stream';

/**
 * What a client key evaluates, per snapshot: the client-visible flags (a prerequisite on a hidden
 * flag fails, as in the browser SDK) with whole cohorts. Cohort lists need no cutting to the user:
 * an evaluation for one user depends only on that user's own membership, the same answer the
 * browser SDK computes from its cut ruleset, and only the answer leaves the server.
 */
const clientRulesets = new WeakMap<RulesetSnapshot, Ruleset>();
function rulesetFor(snapshot: RulesetSnapshot, key: AuthenticatedKey): Ruleset {
  if (key.kind !== 'client') return snapshot.ruleset;
  let ruleset = clientRulesets.get(snapshot);
  if (ruleset === undefined) {
    const flags: Record<string, Flag> = {};
    for (const flag of snapshot.clientVisible) if (snapshot.ruleset.flags[flag]) flags[flag] = snapshot.ruleset.flags[flag];
    ruleset = { ...snapshot.ruleset, flags };
    clientRulesets.set(snapshot, ruleset);
  }
  return ruleset;
}

const flagOf = (ruleset: Ruleset, key: string): Flag | undefined => (Object.hasOwn(ruleset.flags, key) ? ruleset.flags[key] : undefined);

/** The entity tags an `If-None-Match` lists, unquoted (`*` matches any). */
function listedTags(header: string | undefined): string[] {
  return (header ?? '').split(',').map((tag) => tag.trim().replace(/^W\//, '').replace(/"/g, '')).filter((tag) => tag !== '');
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.end(JSON.stringify(body));
}

/** The OFREP API: evaluations by `@aviary/core` on the live, in-memory rulesets. */
@Injectable()
export class OfrepService {
  constructor(
    private readonly sdk: SdkService,
    private readonly live: LiveRulesets,
    private readonly hub: StreamHub,
    private readonly exposures: OfrepExposures,
  ) {}

  /** `POST /ofrep/v1/evaluate/flags/{key}`: counted as an exposure, like an SDK evaluation. */
  async evaluateFlag(key: AuthenticatedKey, flagKey: string, body: unknown, res: ServerResponse): Promise<void> {
    const { snapshot } = await this.sdk.snapshotFor({ key });
    const parsed = toContext(body);
    if ('problem' in parsed) return send(res, 400, { key: flagKey, ...parsed.problem });
    const ruleset = rulesetFor(snapshot, key);
    const flag = flagOf(ruleset, flagKey);
    const result = evaluate(ruleset, flagKey, parsed.context);
    const answer: OfrepEvaluation = toOfrep(flagKey, flag, result, snapshot.revision);
    if (answer.status === 200) this.exposures.record(key, flagKey, result.enabled, result.variant);
    send(res, answer.status, answer.body);
  }

  /**
   * `POST /ofrep/v1/evaluate/flags`: every flag the key may see. The ETag is a digest of the
   * evaluations, so an unchanged answer for this context is a 304 whatever changed elsewhere.
   * `flagConfigEtag` (from a refetch event) names the revision the caller was told of: an instance
   * still behind it catches up with Postgres before answering.
   */
  async evaluateAll(key: AuthenticatedKey, body: unknown, req: IncomingMessage, res: ServerResponse, flagConfigEtag: unknown): Promise<void> {
    const { environment, snapshot: live } = await this.sdk.snapshotFor({ key });
    let snapshot = live;
    const parsed = toContext(body);
    if ('problem' in parsed) return send(res, 400, parsed.problem);
    const wanted = revisionOf(flagConfigEtag);
    if (wanted !== undefined && wanted > snapshot.revision) {
      await this.live.reconcile();
      snapshot = this.live.get(environment) ?? snapshot;
    }
    const ruleset = rulesetFor(snapshot, key);
    const flags = Object.keys(ruleset.flags)
      .sort()
      .map((flagKey) => toOfrep(flagKey, flagOf(ruleset, flagKey), evaluate(ruleset, flagKey, parsed.context)).body);
    const json = JSON.stringify(flags);
    const etag = `"${createHash('sha256').update(json).digest('base64url').slice(0, 27)}"`;
    res.setHeader('ETag', etag);
    res.setHeader('Cache-Control', 'no-cache');
    const held = listedTags(req.headers['if-none-match']);
    if (held.includes(etag.slice(1, -1)) || held.includes('*')) {
      res.statusCode = 304;
      res.end();
      return;
    }
    const token = key.kind === 'client' ? presentedToken(req, true) : undefined;
    // Only client keys get a stream: EventSource sends no headers, and a secret key never goes in a URL.
    const eventStreams = token
      ? `,"eventStreams":${JSON.stringify([{ type: 'sse', endpoint: { requestUri: `${OFREP_STREAM_PATH}?clientKey=${encodeURIComponent(token)}` } }])}`
      : '';
    res.statusCode = 200;
    res.setHeader('Content-Type', 'application/json; charset=utf-8');
    res.end(`{"flags":${json}${eventStreams},"metadata":${JSON.stringify({ environment, revision: snapshot.revision })}}`);
  }

  /** `GET /sdk/v1/ofrep-stream`: ADR-0008 refetch events, from the instance's stream hub. */
  async stream(key: AuthenticatedKey, req: IncomingMessage, res: ServerResponse, lastEventIdQuery: unknown): Promise<void> {
    if (!this.hub.isAccepting) throw new ServiceUnavailableException('This instance is shutting down; connect to another one');
    const { environment } = await this.sdk.snapshotFor({ key });
    const snapshot = this.live.get(environment)!;
    const credentials = [credentialRef({ kind: 'api-key', id: key.id })];
    if (credentials.some((c) => this.hub.isRefused(c))) throw new UnauthorizedException('Unknown or revoked API key');
    const lastEventId = revisionOf(req.headers['last-event-id']) ?? revisionOf(lastEventIdQuery);
    // A resume from an older revision is told to refetch at once (the hub's catch-up goes to `notify`).
    const revision = lastEventId !== undefined && lastEventId < snapshot.revision ? lastEventId : snapshot.revision;
    this.hub.open({ environment, res, credentials, revision, notify: notifyRefetch(res, key.kind === 'client') }, snapshot, undefined);
  }
}
