import type { Ruleset } from '@aviary/core';
import { createClient, type AviaryClient } from '../../src/client.js';
import type { AviaryOptions } from '../../src/options.js';
import type { Logger } from '../../src/logger.js';

export const baseRuleset: Ruleset = {
  environment: 'test',
  revision: 10,
  flags: {
    'new-checkout': {
      key: 'new-checkout',
      enabled: true,
      variants: [
        { key: 'blue', value: { color: '#00f' }, weight: 1 },
        { key: 'green', value: { color: '#0f0' }, weight: 1 },
      ],
    },
    beta: {
      key: 'beta',
      enabled: true,
      rules: [{ id: 'nl', conditions: [{ attribute: 'country', operator: 'in', values: ['NL'] }] }],
    },
    dormant: { key: 'dormant', enabled: false },
    broken: { key: 'broken', enabled: true, rules: [{ id: 'r1', rollout: { percentage: 150 } }] },
    color: { key: 'color', enabled: true, variants: [{ key: 'red', value: '#f00', weight: 1 }] },
    plain: { key: 'plain', enabled: true, variants: [{ key: 'only', weight: 1 }] },
    limit: { key: 'limit', enabled: true, variants: [{ key: 'ten', value: 10, weight: 1 }] },
  },
  cohorts: {},
};

/** A logger that keeps what it is told, to assert on warnings. */
export function recordingLogger(): Logger & { lines: { level: string; message: string }[] } {
  const lines: { level: string; message: string }[] = [];
  const at = (level: string) => (message: string) => {
    lines.push({ level, message });
  };
  return { lines, error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug') };
}

/** Options that keep every timing in tests short. */
export const fast = {
  sdkKey: 'avs_test',
  heartbeatTimeoutMs: 2_000,
  initialReconnectDelayMs: 20,
  maxReconnectDelayMs: 100,
  readyTimeoutMs: 2_000,
  pollIntervalMs: 50,
  requestTimeoutMs: 1_000,
  sendMetrics: false,
} satisfies Partial<AviaryOptions>;

/** Creates clients and closes them all after the test. */
export function clientFactory() {
  const clients: AviaryClient[] = [];
  return {
    create(options: Partial<AviaryOptions> & { url: string }): AviaryClient & { logger: ReturnType<typeof recordingLogger> } {
      const logger = recordingLogger();
      const client = createClient({ ...fast, logger, ...options } as AviaryOptions);
      clients.push(client);
      return Object.assign(client, { logger });
    },
    async closeAll() {
      await Promise.all(clients.splice(0).map((client) => client.close()));
    },
  };
}
