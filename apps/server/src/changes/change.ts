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

/**
 * One committed revision of one environment: what a write produces, the change log stores, the
 * bus carries between instances and the stream sends (through `clientPatch`/`publicPatch`).
 */
export interface RulesetChange {
  environment: string;
  /** The environment's id: tells this installation's changes from another's on a shared Redis. */
  environmentId?: string;
  revision: number;
  kind: ChangeKind;
  patch: RulesetPatch;
}
