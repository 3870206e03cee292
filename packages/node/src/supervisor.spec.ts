import { describe, expect, it } from 'vitest';
import { createEmitter } from './emitter.js';
import type { AviaryError } from './errors/aviary-error.js';
import type { AviaryEvents } from './events.js';
import { createConsoleLogger } from './logger.js';
import { resolveOptions } from './options.js';
import { openFetchStream } from './platform/fetch-stream.js';
import type { FetchLike, Platform } from './platform/platform.js';
import { ServedRuleset } from './served-ruleset.js';
import { ConnectionSupervisor } from './supervisor.js';

/** A platform whose timers fire on the next turn (heartbeats never), with a fixed random. */
function fakePlatform(fetch: FetchLike, heartbeatMs: number) {
  const delays: number[] = [];
  const platform: Platform = {
    fetch,
    openStream: openFetchStream(fetch),
    now: () => 0,
    random: () => 0.5,
    schedule(delayMs, callback) {
      if (delayMs === heartbeatMs) return { cancel: () => undefined, refresh: () => undefined };
      delays.push(delayMs);
      const handle = setImmediate(callback);
      return { cancel: () => clearImmediate(handle), refresh: () => undefined };
    },
  };
  return { platform, delays };
}

describe('connection supervisor', () => {
  it('backs off exponentially with full jitter up to the ceiling, counting consecutive failures, then also polls', async () => {
    const refused: FetchLike = () => Promise.reject(new TypeError('fetch failed'));
    const { platform, delays } = fakePlatform(refused, 45_000);
    const logger = createConsoleLogger('none');
    const { options } = resolveOptions({ url: 'http://aviary.test', sdkKey: 'avs_test', logger, streamFailuresBeforePolling: 3, pollIntervalMs: 600_000 });
    const served = new ServedRuleset(undefined, createEmitter<AviaryEvents>(logger), logger, () => undefined);
    const errors: [string, string][] = [];
    let done!: () => void;
    const finished = new Promise<void>((resolve) => (done = resolve));
    const supervisor: ConnectionSupervisor = new ConnectionSupervisor(options, platform, served, {
      error(error: AviaryError, level) {
        errors.push([error.message.includes('/sdk/v1/ruleset') ? 'poll' : 'stream', level]);
        if (errors.filter(([what]) => what === 'stream').length === 8) {
          supervisor.stop();
          done();
        }
      },
      status: () => undefined,
      fatal: () => undefined,
    });
    supervisor.start();
    await finished;
    // One warning per outage, the rest at debug; the poll starts after the third failure.
    expect(errors.filter(([what]) => what === 'stream').map(([, level]) => level)).toEqual(['warn', ...Array(7).fill('debug')]);
    expect(errors.some(([what]) => what === 'poll')).toBe(true);
    // random() = 0.5 gives half of each ceiling: 1 s, 2 s, 4 s, … capped at 30 s (the poll's own timers aside).
    expect(delays.filter((ms) => ms !== 600_000 && ms !== 10_000)).toEqual([500, 1_000, 2_000, 4_000, 8_000, 15_000, 15_000]);
    expect(supervisor.status).toBe('offline');
  });
});
