import { ForbiddenException, Injectable, ServiceUnavailableException, UnauthorizedException } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AuthenticatedKey } from '../common/actor.js';
import { credentialRef } from '../credentials/credential.js';
import { LiveRulesets } from '../stream/live-rulesets.js';
import type { RulesetSnapshot } from '../stream/snapshot.js';
import { acceptsGzip } from '../stream/sse.js';
import { StreamHub, rulesetJson } from '../stream/stream-hub.js';

/** Who asks: the key's environment, and for client keys the user the browser identifies as. */
export interface SdkCaller {
  key: AuthenticatedKey;
  /** Client keys: the context key sent as `?key=`. */
  userKey?: string;
  /** Streams: the SDK protocol announced as `?protocol=` (1 when absent). */
  protocol?: number;
}

/** The revisions an `If-None-Match` names: `"42"`, `42`, `W/"42"`, or a list of them. */
function namedRevisions(ifNoneMatch: string | undefined): number[] {
  if (!ifNoneMatch) return [];
  return ifNoneMatch
    .split(',')
    .map((tag) => revisionOf(tag.trim().replace(/^W\//, '').replace(/"/g, '')))
    .filter((revision) => revision !== undefined);
}

/** Parses a `Last-Event-ID`; undefined unless it is a revision. */
export function revisionOf(value: unknown): number | undefined {
  if (typeof value !== 'string' || !/^\d{1,15}$/.test(value.trim())) return undefined;
  return Number(value.trim());
}

/** The SDK API: rulesets and streams served from memory. */
@Injectable()
export class SdkService {
  constructor(
    private readonly live: LiveRulesets,
    private readonly hub: StreamHub,
  ) {}

  /** The live ruleset of the caller's environment: 403 for a key bound to none, 503 before it is loaded. */
  async snapshotFor(caller: SdkCaller): Promise<{ environment: string; snapshot: RulesetSnapshot }> {
    if (caller.key.environmentId === null) throw new ForbiddenException('This key is bound to no environment');
    const environment = await this.live.environmentKey(caller.key.environmentId);
    const snapshot = environment === undefined ? undefined : this.live.get(environment);
    if (environment === undefined || snapshot === undefined) {
      throw new ServiceUnavailableException('The ruleset of this key\'s environment is not loaded yet; retry shortly');
    }
    return { environment, snapshot };
  }

  async ruleset(caller: SdkCaller, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { environment, snapshot } = await this.snapshotFor(caller);
    res.setHeader('ETag', `"${snapshot.revision}"`);
    res.setHeader('Cache-Control', 'no-cache');
    res.setHeader('Vary', 'Accept-Encoding, Authorization');
    const held = namedRevisions(req.headers['if-none-match']);
    if (held.includes(snapshot.revision)) {
      res.statusCode = 304;
      res.end();
      return;
    }
    res.setHeader('Content-Type', 'application/json; charset=utf-8');
    const client = caller.key.kind === 'client' ? { userKey: caller.userKey } : undefined;
    if (held.length > 0 && (await this.live.isRewound(environment, Math.max(...held)))) {
      // The revision is read again: the instance has just been brought back to Postgres's history.
      const current = this.live.get(environment)!;
      res.setHeader('ETag', `"${current.revision}"`);
      res.end(rulesetJson(current, client, true));
    } else if (client) {
      res.end(rulesetJson(snapshot, client, false));
    } else if (acceptsGzip(req)) {
      res.setHeader('Content-Encoding', 'gzip');
      res.end(snapshot.toGzip());
    } else {
      res.end(snapshot.toJSON());
    }
  }

  async stream(caller: SdkCaller, req: IncomingMessage, res: ServerResponse, lastEventIdQuery: unknown): Promise<void> {
    if (!this.hub.isAccepting) throw new ServiceUnavailableException('This instance is shutting down; connect to another one');
    const { environment } = await this.snapshotFor(caller);
    const lastEventId = revisionOf(req.headers['last-event-id']) ?? revisionOf(lastEventIdQuery);
    const rewound = lastEventId !== undefined && (await this.live.isRewound(environment, lastEventId));
    const missed = lastEventId === undefined || rewound ? undefined : await this.live.missedSince(environment, lastEventId);
    // Take the snapshot after the await: changes may have landed meanwhile.
    const snapshot = this.live.get(environment)!;
    // Revoked while this request was on its way here: checked in the same turn as the open, so a
    // revocation lands either before (refused) or after (the stream is ended with the others).
    const credentials = [credentialRef({ kind: 'api-key', id: caller.key.id })];
    if (credentials.some((c) => this.hub.isRefused(c))) throw new UnauthorizedException('Unknown or revoked API key');
    this.hub.open(
      {
        environment,
        res,
        credentials,
        client: caller.key.kind === 'client' ? { userKey: caller.userKey } : undefined,
        // Server keys only: their frames are the same for every stream, compressed once each;
        // a client key's are cut per user and small.
        gzip: caller.key.kind === 'server' && acceptsGzip(req),
        protocol: caller.protocol,
        // Without a usable resume point the subscriber starts from nothing and gets the whole ruleset.
        revision: missed === undefined ? -1 : lastEventId!,
      },
      snapshot,
      missed,
      rewound,
    );
  }
}
