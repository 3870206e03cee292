import {
  ErrorCode,
  OpenFeatureEventEmitter,
  ProviderEvents,
  ProviderFatalError,
  ProviderNotReadyError,
  StandardResolutionReasons,
  type EvaluationContext,
  type FlagMetadata,
  type JsonValue,
  type Provider,
  type ResolutionDetails,
  type ResolutionReason,
  type TrackingEventDetails,
} from '@openfeature/server-sdk';
import type { Context, Result } from '@aviary/core';
import { createClient, type AviaryClient, type AviaryEvents } from './client.js';
import type { AviaryError } from './errors/aviary-error.js';
import type { AviaryOptions } from './options.js';

/** An OpenFeature server provider backed by an Aviary client. */
export interface AviaryProvider extends Provider {
  readonly events: OpenFeatureEventEmitter;
  /** The Aviary client answering for this provider. */
  readonly client: AviaryClient;
}

type ValueType = 'boolean' | 'string' | 'number' | 'object';

/**
 * Creates an OpenFeature provider. Given options, it creates (and on close, closes) its own
 * client; given a client, it uses it and leaves closing it to the caller.
 */
export function createProvider(clientOrOptions: AviaryClient | AviaryOptions): AviaryProvider {
  const owned = !isClient(clientOrOptions);
  const client = isClient(clientOrOptions) ? clientOrOptions : createClient(clientOrOptions);
  const events = new OpenFeatureEventEmitter();

  let initializeSettled = false;
  let notReady = false;
  let stale = false;
  let fatal: AviaryError | undefined;

  const onChange = (change: AviaryEvents['change']) =>
    events.emit(ProviderEvents.ConfigurationChanged, {
      flagsChanged: change.flags,
      metadata: { revision: change.revision },
    });
  const onReady = () => {
    if (!initializeSettled || !notReady) return;
    notReady = false;
    stale = false;
    events.emit(ProviderEvents.Ready, {});
  };
  const onError = (error: AviaryError) => {
    if (error.fatal) fatal = error;
    if (!initializeSettled) return;
    if (error.fatal && client.revision === undefined) {
      events.emit(ProviderEvents.Error, { message: error.message, errorCode: ErrorCode.PROVIDER_FATAL });
    } else if (error.fatal || client.revision === undefined) {
      events.emit(ProviderEvents.Error, { message: error.message });
    } else if (!stale) {
      // Still answering from the last good ruleset, which may fall behind until the client reconnects.
      stale = true;
      events.emit(ProviderEvents.Stale, { message: error.message });
    }
  };
  const onStatus = (change: AviaryEvents['status']) => {
    if (stale && change.status !== 'offline') {
      stale = false;
      events.emit(ProviderEvents.Ready, {});
    }
  };
  client.on('change', onChange);
  client.on('ready', onReady);
  client.on('error', onError);
  client.on('status', onStatus);

  function resolve<T>(flagKey: string, defaultValue: T, context: EvaluationContext, type: ValueType): ResolutionDetails<T> {
    if (client.revision === undefined) {
      return {
        value: defaultValue,
        reason: StandardResolutionReasons.ERROR,
        errorCode: ErrorCode.PROVIDER_NOT_READY,
        errorMessage: 'Aviary has no ruleset yet (not connected and no bootstrap)',
      };
    }
    const result = client.evaluate(flagKey, toAviaryContext(context));
    const flagMetadata: FlagMetadata = { aviaryReason: result.reason, revision: client.revision };
    if (result.ruleId !== undefined) flagMetadata['ruleId'] = result.ruleId;

    if (result.reason === 'FLAG_NOT_FOUND') {
      return {
        value: defaultValue,
        reason: StandardResolutionReasons.ERROR,
        errorCode: ErrorCode.FLAG_NOT_FOUND,
        errorMessage: `flag "${flagKey}" not found`,
        flagMetadata,
      };
    }
    if (result.reason === 'ERROR') {
      return {
        value: defaultValue,
        reason: StandardResolutionReasons.ERROR,
        errorCode: mapErrorCode(result),
        errorMessage: result.errorMessage ?? `flag "${flagKey}" could not be evaluated (${result.errorCode ?? 'ERROR'})`,
        flagMetadata,
      };
    }
    const reason = mapReason(result);
    const variant = result.variant;
    if (type === 'boolean') {
      return { value: result.enabled as T, reason, flagMetadata, ...(variant !== undefined && { variant }) };
    }
    if (!result.enabled || variant === undefined) return { value: defaultValue, reason, flagMetadata };

    const value = type === 'string' && result.value === undefined ? variant : result.value;
    if (!matchesType(value, type)) {
      return {
        value: defaultValue,
        reason: StandardResolutionReasons.ERROR,
        errorCode: ErrorCode.TYPE_MISMATCH,
        errorMessage: `flag "${flagKey}" variant "${variant}" has a ${describeType(value)} value, not a ${type}`,
        flagMetadata,
      };
    }
    return { value: value as T, variant, reason, flagMetadata };
  }

  return {
    metadata: { name: 'Aviary' },
    runsOn: 'server',
    events,
    client,
    async initialize() {
      await client.ready();
      initializeSettled = true;
      if (client.revision !== undefined) {
        // Answering from a server ruleset or a bootstrap; a fatal error still deserves a word.
        if (fatal) setTimeout(() => events.emit(ProviderEvents.Error, { message: fatal?.message }), 0);
        return;
      }
      notReady = true;
      if (fatal) throw new ProviderFatalError(fatal.message);
      throw new ProviderNotReadyError('Aviary: no ruleset arrived within readyTimeoutMs and no bootstrap was given');
    },
    async onClose() {
      client.off('change', onChange);
      client.off('ready', onReady);
      client.off('error', onError);
      client.off('status', onStatus);
      if (owned) await client.close();
    },
    track(trackingEventName: string, context: EvaluationContext, details: TrackingEventDetails) {
      client.track(trackingEventName, toAviaryContext(context), { value: details?.value });
    },
    resolveBooleanEvaluation: async (flagKey, defaultValue, context) => resolve(flagKey, defaultValue, context, 'boolean'),
    resolveStringEvaluation: async (flagKey, defaultValue, context) => resolve(flagKey, defaultValue, context, 'string'),
    resolveNumberEvaluation: async (flagKey, defaultValue, context) => resolve(flagKey, defaultValue, context, 'number'),
    resolveObjectEvaluation: async <T extends JsonValue>(flagKey: string, defaultValue: T, context: EvaluationContext) =>
      resolve(flagKey, defaultValue, context, 'object'),
  };
}

function isClient(value: AviaryClient | AviaryOptions): value is AviaryClient {
  return typeof (value as Partial<AviaryClient>).evaluate === 'function';
}

/** OpenFeature's `targetingKey` becomes Aviary's `key`; dates become ISO strings; nested values are dropped. */
export function toAviaryContext(context: EvaluationContext | undefined): Context {
  const result: Context = {};
  for (const [name, value] of Object.entries(context ?? {})) {
    if (name === 'targetingKey') continue;
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') result[name] = value;
    else if (value instanceof Date) result[name] = value.toISOString();
  }
  const targetingKey = context?.targetingKey;
  if (typeof targetingKey === 'string' && targetingKey !== '') result.key = targetingKey;
  return result;
}

function mapReason(result: Result): ResolutionReason {
  switch (result.reason) {
    case 'DISABLED':
      return StandardResolutionReasons.DISABLED;
    case 'RULE_MATCH':
      return StandardResolutionReasons.TARGETING_MATCH;
    case 'DEFAULT':
    case 'NO_MATCH':
      return StandardResolutionReasons.DEFAULT;
    case 'PREREQUISITE_FAILED':
      return 'PREREQUISITE_FAILED';
    default:
      return StandardResolutionReasons.UNKNOWN;
  }
}

function mapErrorCode(result: Result): ErrorCode {
  switch (result.errorCode) {
    case 'INVALID_FLAG':
    case 'INVALID_COHORT':
      return ErrorCode.PARSE_ERROR;
    case 'INVALID_INPUT':
      return ErrorCode.INVALID_CONTEXT;
    default:
      return ErrorCode.GENERAL;
  }
}

function matchesType(value: unknown, type: ValueType): boolean {
  if (type === 'object') return typeof value === 'object' && value !== null;
  return typeof value === type;
}

function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}
