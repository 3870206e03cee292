import type { WebhookPayload } from './events.js';

const ICONS: Partial<Record<WebhookPayload['type'], string>> = {
  'flag.killed': '🛑',
  'flag.revived': '✅',
  'rollout.rolled-back': '↩️',
  'rollout.started': '🚀',
  'rollout.paused': '⏸️',
  'api-key.revoked': '🔑',
  'webhook.disabled': '⚠️',
};

const VERBS: Record<WebhookPayload['type'], string> = {
  'flag.created': 'created',
  'flag.updated': 'updated',
  'flag.archived': 'archived',
  'flag.config.updated': 'reconfigured',
  'flag.killed': 'killed',
  'flag.revived': 'revived',
  'cohort.updated': 'changed',
  'rollout.started': 'rollout started',
  'rollout.step': 'rollout widened',
  'rollout.paused': 'rollout paused',
  'rollout.awaiting-approval': 'rollout awaits approval',
  'rollout.rolled-back': 'rolled back',
  'rollout.completed': 'rollout completed',
  'api-key.created': 'created',
  'api-key.revoked': 'revoked',
  'person.invited': 'invited',
  'person.role-changed': 'given a new role',
  'webhook.disabled': 'disabled',
  'webhook.test': 'test event',
};

/** One line a person reads at a glance: "🛑 checkout-v2 killed in production by the rollout
 *  guard: errors 20.5 % vs 0.45 %". */
export function summary(event: WebhookPayload): string {
  const icon = ICONS[event.type] ?? '🔔';
  const where = event.environment ? ` in ${event.environment}` : '';
  const reason = event.reason ? `: ${event.reason}` : '';
  return `${icon} ${event.resource.key} ${VERBS[event.type]}${where} by ${actorLabel(event)}${reason}`;
}

/** A person or key by name; the server's own work by what did it: a plan's guard rolls back
 *  and pauses, its schedule does the rest. */
function actorLabel(event: WebhookPayload): string {
  if (event.actor.type !== 'system' || !event.actor.name.startsWith('rollout-plan:')) return event.actor.name;
  return event.type === 'rollout.rolled-back' || event.type === 'rollout.paused' ? 'the rollout guard' : 'its rollout plan';
}

/** A Slack incoming-webhook message (Block Kit): the summary, then the event's facts. */
export function slackMessage(event: WebhookPayload): object {
  const text = summary(event);
  const facts = [
    `*${event.type}*`,
    event.revision === null ? null : `revision ${event.revision}`,
    `<!date^${Math.floor(Date.parse(event.time) / 1000)}^{date_short_pretty} {time_secs}|${event.time}>`,
    event.link === undefined ? null : `<${event.link}|Open in Aviary>`,
  ].filter((part) => part !== null);
  return {
    // The notification's text; Slack reads it as mrkdwn too.
    text: escape(text),
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: escape(text) } },
      { type: 'context', elements: [{ type: 'mrkdwn', text: facts.join(' · ') }] },
    ],
  };
}

/** Slack's three control characters in mrkdwn. */
function escape(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}
