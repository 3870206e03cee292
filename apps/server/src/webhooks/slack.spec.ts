import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { WebhookPayload } from './events.js';
import { slackMessage, summary } from './slack.js';

/** A guard's rollback as the outbox stores it, plus the link the worker adds at delivery. */
const rollback: WebhookPayload = {
  id: '0f5b8a52-3a43-4c43-9f0e-2b1a6f0d7c11',
  type: 'rollout.rolled-back',
  time: '2026-12-02T03:14:07.000Z',
  environment: 'production',
  revision: 412,
  revisions: null,
  actor: { type: 'system', id: null, name: 'rollout-plan:7d0c1f9e-5b7a-4f43-8e21-4c1d2a9b6e30' },
  resource: { type: 'rollout-plan', key: 'checkout-v2' },
  action: 'rollout-plan.rollback',
  reason: 'errors 20.5 % vs 0.45 % (z = 6.9) at 5 %',
  before: null,
  after: { id: '7d0c1f9e-5b7a-4f43-8e21-4c1d2a9b6e30', state: 'rolled-back' },
  requestId: null,
  link: 'https://flags.example.com/rollouts/7d0c1f9e-5b7a-4f43-8e21-4c1d2a9b6e30',
};

describe('Slack messages', () => {
  it('equal the recorded sample of a guard rollback (Block Kit: section + context, fallback text)', () => {
    const sample = JSON.parse(readFileSync(new URL('./slack-sample.json', import.meta.url), 'utf8'));
    expect(slackMessage(rollback)).toEqual(sample);
  });

  it('read in one glance: icon, resource, what happened, where, by whom, why', () => {
    expect(summary(rollback)).toBe('↩️ checkout-v2 rolled back in production by the rollout guard: errors 20.5 % vs 0.45 % (z = 6.9) at 5 %');
    const kill = { ...rollback, type: 'flag.killed', resource: { type: 'flag-config', key: 'checkout-v2' }, actor: { type: 'person', id: 'p1', name: 'Ada' } } as const;
    expect(summary(kill)).toBe('🛑 checkout-v2 killed in production by Ada: errors 20.5 % vs 0.45 % (z = 6.9) at 5 %');
    const step = { ...rollback, type: 'rollout.step', reason: 'rollout plan step 2/4: 5 %' } as const;
    expect(summary(step)).toBe('🔔 checkout-v2 rollout widened in production by its rollout plan: rollout plan step 2/4: 5 %');
  });

  it("escapes Slack's control characters in what people wrote", () => {
    const message = slackMessage({ ...rollback, reason: '<!channel> & <@U123>' }) as { blocks: Array<{ text?: { text: string } }> };
    expect(message.blocks[0]!.text!.text).toContain('&lt;!channel&gt; &amp; &lt;@U123&gt;');
  });
});
