import { compactCohorts, type Ruleset } from '@aviary/core';
import { applyMessages, initialState, resumeRevision, type Applied, type ProtocolState, type StreamMessage } from '@aviary/core/protocol';
import type { Emitter } from './emitter.js';
import { ProtocolError } from './errors/protocol-error.js';
import type { AviaryEvents } from './events.js';
import type { Logger } from './logger.js';

/**
 * The ruleset a client serves, and how it moves: every update from the server goes through
 * `@aviary/core/protocol` (one implementation of the wire rules for both SDKs and the server),
 * is installed, and only then told to listeners. A bootstrap is served but its revision is not
 * trusted: the server's first ruleset replaces it whatever its revision.
 */
export class ServedRuleset {
  private state: ProtocolState;

  constructor(
    bootstrap: Ruleset | undefined,
    private readonly emitter: Emitter<AviaryEvents>,
    private readonly logger: Logger,
    /** Called once, when the server's first ruleset is in place (before the `ready` event). */
    private readonly onFirstRuleset: () => void,
  ) {
    this.state = initialState(bootstrap);
  }

  /** What evaluation answers from: the server's ruleset, the bootstrap, or nothing. */
  get ruleset(): Ruleset | undefined {
    return this.state.ruleset;
  }

  /** Whether a ruleset from the server has arrived. */
  get initialized(): boolean {
    return this.state.revision !== undefined;
  }

  /** The revision to resume from (`Last-Event-ID`, `If-None-Match`); undefined asks for the whole ruleset. */
  get resumeFrom(): number | undefined {
    return resumeRevision(this.state);
  }

  /**
   * The events of one received chunk. Returns whether a revision was missed, so that the stream
   * reconnects for the whole ruleset.
   */
  receive(messages: readonly StreamMessage[]): boolean {
    const held = this.state.revision;
    const applied = applyMessages(this.state, messages);
    this.install(applied);
    for (const problem of applied.problems) this.problem(`Aviary: ${problem}`);
    if (applied.needsReload) this.logger.info(`missed revisions (at ${held ?? 'none'}); reloading the whole ruleset`);
    return applied.needsReload;
  }

  /** The body of a `GET /sdk/v1/ruleset`: to the protocol, a `ruleset` event without an id. Returns whether it was a ruleset. */
  receivePolled(text: string, url: string): boolean {
    const applied = applyMessages(this.state, [{ event: 'ruleset', data: text }]);
    this.install(applied);
    for (const problem of applied.problems) this.problem(`Aviary: GET ${url} answered something that is not a ruleset (${problem})`);
    return applied.problems.length === 0;
  }

  /**
   * Installs the new state, then tells listeners: every kill first, then the changes, then `ready`.
   * Large cohort lists are held as `MemberSet`s (`compactCohorts`): a million keys cost about their
   * own bytes, not the ~70 bytes each that the parsed array and its Set would.
   */
  private install({ state: applied, events }: Applied): void {
    const before = this.state;
    if (applied.ruleset === before.ruleset) {
      this.state = applied;
      return;
    }
    const state = (this.state = applied.ruleset ? { ...applied, ruleset: compactCohorts(applied.ruleset) } : applied);
    const { revision } = state;
    // The one time a revision goes backwards: the server's history no longer has ours.
    if (before.revision !== undefined && revision! <= before.revision) {
      this.logger.warn(
        `the server no longer has revision ${before.revision} (its database was restored from an older backup?); ` +
          `taking its ruleset at revision ${revision}`,
      );
    }
    for (const [event, payload] of events) {
      if (event === 'kill') {
        this.logger.info(`killed at revision ${payload.revision}: ${payload.flags.join(', ')}`);
        this.emitter.emit('kill', payload);
      } else this.emitter.emit('change', payload);
    }
    if (before.revision === undefined) {
      this.logger.info(`ready at revision ${revision}`);
      this.onFirstRuleset();
      this.emitter.emit('ready', { revision: revision! });
    }
  }

  private problem(message: string): void {
    const error = new ProtocolError(message);
    this.logger.warn(error.message);
    this.emitter.emit('error', error);
  }
}
