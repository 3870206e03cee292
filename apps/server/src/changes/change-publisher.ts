import { Injectable, Logger } from '@nestjs/common';
import type { RulesetPatch as WirePatch } from '@aviary/core/protocol';

/** `change`: flags or cohorts upserted or deleted; `kill`: a flag switched off (SDKs apply it
 *  first); `ruleset`: the state moved in a way no small patch describes (a new environment, a
 *  cohort too large to ship in a patch): subscribers reload the whole ruleset. */
export type ChangeKind = 'change' | 'kill' | 'ruleset';

/** What one revision changed: the patch of docs/protocol.md (`@aviary/core/protocol`, one type for
 *  the server and the SDKs; `null` deletes), with its revision, plus what only the server keeps. */
export interface RulesetPatch extends WirePatch {
  revision: number;
  /** Server-side only: whether client keys may see the flags in `flags`; never sent to SDKs. */
  clientVisible?: Record<string, boolean>;
}

export interface ChangeEvent {
  environment: string;
  /** The environment's id: tells this installation's changes from another's on a shared Redis. */
  environmentId?: string;
  revision: number;
  kind: ChangeKind;
  patch: RulesetPatch;
}

/** Told about every committed revision, after commit, in revision order per environment. */
export interface ChangePublisher {
  publish(event: ChangeEvent): Promise<void>;
}

export const CHANGE_PUBLISHER = Symbol('CHANGE_PUBLISHER');

export type ChangeListener = (event: ChangeEvent) => void;

/** The single-instance stand-in for the Redis fan-out: delivers events to listeners in this
 *  process. */
@Injectable()
export class InProcessChangePublisher implements ChangePublisher {
  private readonly logger = new Logger('ChangePublisher');
  private readonly listeners = new Set<ChangeListener>();

  async publish(event: ChangeEvent): Promise<void> {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (err) {
        this.logger.error(`A change listener failed on ${event.environment}@${event.revision}: ${(err as Error).stack}`);
      }
    }
  }

  /** Answers the function that unsubscribes. */
  subscribe(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
