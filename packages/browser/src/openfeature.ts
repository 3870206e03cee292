import {
  ErrorCode,
  OpenFeatureEventEmitter,
  ProviderEvents,
  StandardResolutionReasons,
  type EvaluationContext,
  type FlagMetadata,
  type JsonValue,
  type Provider,
  type ResolutionDetails,
  type ResolutionReason,
  type TrackingEventDetails,
} from '@openfeature/web-sdk';
import type { Context, Reason, Result } from '@aviary/core';
import { createClient, type AviaryClient, type ClientOptions } from './client.js';

/** Client options without `context`: OpenFeature supplies it (its `targetingKey` becomes `key`). */
export type AviaryProviderOptions = Omit<ClientOptions, 'context'>;

const reasons: Record<Reason, ResolutionReason> = {
  DISABLED: StandardResolutionReasons.DISABLED,
  RULE_MATCH: StandardResolutionReasons.TARGETING_MATCH,
  DEFAULT: StandardResolutionReasons.STATIC,
  NO_MATCH: StandardResolutionReasons.DEFAULT,
  PREREQUISITE_FAILED: StandardResolutionReasons.DEFAULT,
  FLAG_NOT_FOUND: StandardResolutionReasons.ERROR,
  ERROR: StandardResolutionReasons.ERROR,
};

/** An OpenFeature context as an Aviary one: flat primitives, dates as ISO strings, `targetingKey` as `key`. */
export function toAviaryContext(context: EvaluationContext = {}): Context {
  const out: Context = {};
  for (const [name, value] of Object.entries(context)) {
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') out[name] = value;
    else if (value instanceof Date) out[name] = value.toISOString();
  }
  if (context.targetingKey !== undefined) out.key = context.targetingKey;
  return out;
}

/**
 * The Aviary browser client as an OpenFeature web provider: resolution is synchronous and local,
 * a context change fetches the new user's ruleset, and every ruleset change is announced as
 * `ConfigurationChanged`. Give it client options (it creates the client on `initialize`) or a client.
 */
export class AviaryProvider implements Provider {
  readonly metadata = { name: 'aviary' } as const;
  readonly runsOn = 'client' as const;
  readonly events = new OpenFeatureEventEmitter();
  private aviary: AviaryClient | undefined;
  private unsubscribe: (() => void) | undefined;

  constructor(private readonly source: AviaryProviderOptions | AviaryClient) {
    if ('isEnabled' in source) this.aviary = source;
  }

  /** The underlying client, once there is one (for `track`, `status` and `on('error')`). */
  get client(): AviaryClient | undefined {
    return this.aviary;
  }

  async initialize(context?: EvaluationContext): Promise<void> {
    const user = toAviaryContext(context);
    if (this.aviary === undefined) this.aviary = createClient({ ...(this.source as AviaryProviderOptions), context: user });
    else if (Object.keys(user).length > 0) await this.aviary.setContext(user);
    this.unsubscribe?.();
    // A cohort change may change any flag that uses it: then no list.
    this.unsubscribe = this.aviary.on('change', ({ flags, cohorts }) => this.events.emit(ProviderEvents.ConfigurationChanged, cohorts.length ? {} : { flagsChanged: flags }));
    await this.aviary.ready();
  }

  onContextChange(_old: EvaluationContext, next: EvaluationContext): Promise<void> {
    return this.aviary?.setContext(toAviaryContext(next)) ?? Promise.resolve();
  }

  async onClose(): Promise<void> {
    this.unsubscribe?.();
    this.aviary?.close();
  }

  track(event: string, _context: EvaluationContext, details?: TrackingEventDetails): void {
    this.aviary?.track(event, { value: details?.value });
  }

  resolveBooleanEvaluation(flagKey: string, defaultValue: boolean): ResolutionDetails<boolean> {
    return this.resolve(flagKey, defaultValue, (r) => r.enabled);
  }

  /** The variant's value when it is a string, else the variant's key. */
  resolveStringEvaluation(flagKey: string, defaultValue: string): ResolutionDetails<string> {
    return this.resolve(flagKey, defaultValue, (r) => (typeof r.value === 'string' ? r.value : r.variant));
  }

  resolveNumberEvaluation(flagKey: string, defaultValue: number): ResolutionDetails<number> {
    return this.resolve(flagKey, defaultValue, (r) => (typeof r.value === 'number' ? r.value : undefined));
  }

  resolveObjectEvaluation<T extends JsonValue>(flagKey: string, defaultValue: T): ResolutionDetails<T> {
    return this.resolve(flagKey, defaultValue, (r) => (typeof r.value === 'object' && r.value !== null ? (r.value as T) : undefined));
  }

  private resolve<T>(flagKey: string, defaultValue: T, pick: (result: Result) => T | undefined): ResolutionDetails<T> {
    const error = (errorCode: ErrorCode, errorMessage: string): ResolutionDetails<T> => ({
      value: defaultValue,
      reason: StandardResolutionReasons.ERROR,
      errorCode,
      errorMessage,
    });
    if (this.aviary === undefined) return error(ErrorCode.PROVIDER_NOT_READY, 'the Aviary provider is not initialized');
    const result = this.aviary.evaluate(flagKey);
    if (result.reason === 'FLAG_NOT_FOUND') return error(ErrorCode.FLAG_NOT_FOUND, `no flag "${flagKey}"`);
    if (result.reason === 'ERROR') {
      const code = result.errorCode === 'INVALID_FLAG' || result.errorCode === 'INVALID_COHORT' ? ErrorCode.PARSE_ERROR : ErrorCode.GENERAL;
      return error(code, result.errorMessage ?? 'evaluation failed');
    }
    const flagMetadata: FlagMetadata = { reason: result.reason };
    if (result.ruleId !== undefined) flagMetadata.ruleId = result.ruleId;
    const reason = reasons[result.reason];
    // An off flag serves the caller's default; a boolean flag's value is its on/off state itself.
    if (!result.enabled && typeof defaultValue !== 'boolean') return { value: defaultValue, reason, flagMetadata };
    const value = pick(result);
    if (value === undefined) return error(ErrorCode.TYPE_MISMATCH, `flag "${flagKey}" serves no ${typeof defaultValue} value`);
    return result.variant === undefined ? { value, reason, flagMetadata } : { value, variant: result.variant, reason, flagMetadata };
  }
}
