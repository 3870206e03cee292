import { Injectable, NotFoundException, ServiceUnavailableException, UnauthorizedException } from '@nestjs/common';
import type { ServerResponse } from 'node:http';
import type { AviaryRequest } from '../common/actor.js';
import { credentialRef } from '../credentials/credential.js';
import { LiveRulesets } from '../stream/live-rulesets.js';
import { StreamHub } from '../stream/stream-hub.js';
import { notifyDashboard, notifyDashboardOfPlan } from './live-events.js';

/** A session's stream ends after this long and the browser reconnects at once (`retry`), passing
 *  the auth guard again (and touching the session's idle clock). Signing out, an ended session and
 *  a disabled person end the stream at once, as a revoked key does; this is the backstop. */
export const SESSION_STREAM_MS = 5 * 60_000;

/**
 * The dashboard's live stream: a subscriber of the same StreamHub the SDK streams use (the one
 * change path), told of each revision through `notify` like OFREP's streams.
 */
@Injectable()
export class LiveEventsService {
  constructor(
    private readonly live: LiveRulesets,
    private readonly hub: StreamHub,
  ) {}

  async open(req: AviaryRequest, res: ServerResponse, environment: string): Promise<void> {
    if (!this.hub.isAccepting) throw new ServiceUnavailableException('This instance is shutting down; connect to another one');
    const snapshot = await this.live.current(environment);
    if (!snapshot) throw new NotFoundException(`No environment "${environment}"`);
    const credentials = req.apiKey
      ? [credentialRef({ kind: 'api-key', id: req.apiKey.id })]
      : req.person
        ? [credentialRef({ kind: 'session', id: req.person.sessionId })]
        : [];
    if (credentials.some((c) => this.hub.isRefused(c))) throw new UnauthorizedException(req.apiKey ? 'Unknown or revoked API key' : 'This session has ended: sign in again');
    // Starts from now: the page reads the current state after it has subscribed.
    this.hub.open({ environment, res, credentials, revision: snapshot.revision, notify: notifyDashboard(res), onPlan: notifyDashboardOfPlan(res) }, snapshot, undefined);
    res.write('retry: 1000\n\n');
    if (req.person) {
      const timer = setTimeout(() => res.end(), SESSION_STREAM_MS);
      timer.unref();
      res.on('close', () => clearTimeout(timer));
    }
  }
}
