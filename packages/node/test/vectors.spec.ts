import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import type { Context, Result } from '@aviary/core';
import { createClientOnPlatform } from '../src/client.js';
import { resolveOptions } from '../src/options.js';
import { createNodePlatform } from '../src/platform/node-platform.js';
import { toRuleset } from '@aviary/core/protocol';
import { recordingLogger } from './support/fixtures.js';

interface Vector {
  name: string;
  ruleset: unknown;
  flag: string;
  context: unknown;
  now?: number;
  expected: Pick<Result, 'enabled' | 'reason' | 'variant' | 'value' | 'ruleId' | 'errorCode'>;
}

// The shared cross-SDK vectors of @aviary/core: every SDK must give the same answers.
const require = createRequire(import.meta.url);
const file = require.resolve('@aviary/core/package.json').replace(/package\.json$/, 'vectors/vectors.json');
const { cases } = JSON.parse(readFileSync(file, 'utf8')) as { cases: Vector[] };
// A bootstrap must be a ruleset; the few vectors about non-object rulesets test core's input checks only.
const isRuleset = (value: unknown) => toRuleset(value) !== undefined;
const runnable = cases.filter((vector) => isRuleset(vector.ruleset));

describe('core vectors through the client', () => {
  it('has vectors to run', () => {
    expect(runnable.length).toBeGreaterThan(1_000);
    expect(cases.length - runnable.length).toBeLessThan(5);
  });

  it.each(runnable.map((vector) => [vector.name, vector] as const))('%s', async (_name, vector) => {
    const logger = recordingLogger();
    const { options, problem } = resolveOptions({ offline: true, bootstrap: vector.ruleset, sendMetrics: false, logger });
    expect(problem).toBeUndefined();
    const node = createNodePlatform();
    const platform = { ...node, now: () => vector.now ?? node.now() };
    const client = createClientOnPlatform(options, platform);
    await client.ready();

    const context = vector.context as Context;
    const { enabled, reason, variant, value, ruleId, errorCode } = client.evaluate(vector.flag, context);
    const actual = Object.fromEntries(
      Object.entries({ enabled, reason, variant, value, ruleId, errorCode }).filter(([, v]) => v !== undefined),
    );
    expect(actual).toEqual(vector.expected);

    const answered = vector.expected.reason !== 'ERROR' && vector.expected.reason !== 'FLAG_NOT_FOUND';
    expect(client.isEnabled(vector.flag, context, true)).toBe(answered ? vector.expected.enabled : true);
    expect(client.variant(vector.flag, context, '<fallback>')).toBe(vector.expected.variant ?? '<fallback>');
    expect(logger.lines.filter((line) => line.level !== 'debug')).toEqual([]);
    await client.close();
  });

  it.each(cases.filter((vector) => !isRuleset(vector.ruleset)).map((vector) => [vector.name, vector] as const))(
    '%s: refused as a bootstrap, so the caller gets the fallback',
    async (_name, vector) => {
      const logger = recordingLogger();
      const { options } = resolveOptions({ offline: true, bootstrap: vector.ruleset, logger });
      const client = createClientOnPlatform(options, createNodePlatform());
      expect(logger.lines.map((line) => line.message)).toContain(
        'option "bootstrap" is not a ruleset ({ environment, revision, flags, cohorts }); ignoring it',
      );
      expect(client.isEnabled(vector.flag, vector.context as Context, true)).toBe(true);
      await client.close();
    },
  );
});
