import { useState, type FormEvent } from 'react';
import { Field } from '../../components/Field';
import { ErrorNotice, Notice } from '../../components/Notice';
import { TableHead } from '../../components/TableHead';
import { fieldError } from '../../lib/api';
import { onLinkClick } from '../../lib/router';
import { ago, when } from '../../lib/time';
import { useCreateWebhook, useDeliveries, useRedeliver, useSetEnabled, useTestEvent, useWebhooks, type Delivery, type NewWebhook, type Webhook } from './api';

type EventName = NewWebhook['events'][number];

/** The events a subscription may ask for, in the order docs/webhooks.md lists them. */
const EVENTS = [
  'flag.created', 'flag.updated', 'flag.archived', 'flag.config.updated', 'flag.killed', 'flag.revived', 'cohort.updated',
  'rollout.started', 'rollout.step', 'rollout.paused', 'rollout.awaiting-approval', 'rollout.rolled-back', 'rollout.completed',
  'api-key.created', 'api-key.revoked', 'person.invited', 'person.role-changed', 'webhook.disabled',
] as const satisfies readonly EventName[];

/** Subscriptions (admins): list, create (the secret is shown once), enable and disable. */
export function Webhooks() {
  const webhooks = useWebhooks();
  return (
    <main className="page">
      <h1>Webhooks</h1>
      <p className="muted">Every change and every rollback, signed (Standard Webhooks) or as a Slack message.</p>
      <ErrorNotice error={webhooks.error} />
      {webhooks.isPending && <p role="status">Loading…</p>}
      {webhooks.isSuccess && webhooks.data.length === 0 && <p>No webhooks yet.</p>}
      {webhooks.isSuccess && webhooks.data.length > 0 && (
        <table className="webhooks">
          <caption className="visually-hidden">Webhook subscriptions</caption>
          <TableHead columns={['URL', 'Events', 'Format', 'State']} />
          <tbody>
            {webhooks.data.map((hook) => (
              <WebhookRow key={hook.id} hook={hook} />
            ))}
          </tbody>
        </table>
      )}
      <NewWebhookForm />
    </main>
  );
}

function WebhookRow({ hook }: { hook: Webhook }) {
  return (
    <tr data-webhook={hook.id}>
      <td>
        <a href={`/webhooks/${hook.id}`} onClick={onLinkClick}>
          {hook.url}
        </a>
        {hook.description && <div className="muted">{hook.description}</div>}
      </td>
      <td>{hook.events.join(', ')}</td>
      <td>{hook.format}</td>
      <td>{hook.enabled ? 'enabled' : `disabled${hook.disabledReason ? `: ${hook.disabledReason}` : ''}`}</td>
    </tr>
  );
}

function NewWebhookForm() {
  const create = useCreateWebhook();
  const [url, setUrl] = useState('');
  const [description, setDescription] = useState('');
  const [format, setFormat] = useState<'standard' | 'slack'>('standard');
  const [environments, setEnvironments] = useState('');
  const [events, setEvents] = useState<Set<EventName>>(new Set(['flag.killed', 'rollout.rolled-back']));
  const [secret, setSecret] = useState<string | null>(null);
  const toggle = (event: EventName) => {
    const next = new Set(events);
    if (next.has(event)) next.delete(event);
    else next.add(event);
    setEvents(next);
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const envs = environments.split(',').map((s) => s.trim()).filter(Boolean);
    create.mutate(
      { url: url.trim(), description: description.trim() || undefined, format, enabled: true, events: [...events], environments: envs.length ? envs : null },
      {
        onSuccess: (created) => {
          setSecret(created.secret);
          setUrl('');
          setDescription('');
        },
      },
    );
  };
  return (
    <section aria-labelledby="new-webhook">
      <h2 id="new-webhook">New webhook</h2>
      {secret && (
        <Notice>
          <p>
            Signing secret, shown only now: <code data-testid="webhook-secret">{secret}</code>{' '}
            <button type="button" onClick={() => void navigator.clipboard?.writeText(secret)}>
              Copy secret
            </button>
          </p>
        </Notice>
      )}
      <form onSubmit={submit} className="stack">
        <Field label="URL" type="url" required value={url} onChange={(e) => setUrl(e.target.value)} placeholder="https://hooks.example.com/aviary" error={fieldError(create.error, 'url')} />
        <Field label="Description" value={description} onChange={(e) => setDescription(e.target.value)} />
        <div className="field">
          <label htmlFor="webhook-format">Format</label>
          <select id="webhook-format" value={format} onChange={(e) => setFormat(e.target.value as 'standard' | 'slack')}>
            <option value="standard">Standard Webhooks (signed JSON)</option>
            <option value="slack">Slack incoming webhook</option>
          </select>
        </div>
        <Field label="Environments" value={environments} onChange={(e) => setEnvironments(e.target.value)} hint="Comma-separated; empty: every environment." error={fieldError(create.error, 'environments')} />
        <fieldset>
          <legend>Events</legend>
          <div className="field checkbox">
            <input id="event-all" type="checkbox" checked={events.has('*')} onChange={() => toggle('*')} />
            <label htmlFor="event-all">All events</label>
          </div>
          {EVENTS.map((event) => (
            <div className="field checkbox" key={event}>
              <input id={`event-${event}`} type="checkbox" checked={events.has('*') || events.has(event)} disabled={events.has('*')} onChange={() => toggle(event)} />
              <label htmlFor={`event-${event}`}>{event}</label>
            </div>
          ))}
        </fieldset>
        <ErrorNotice error={create.error} />
        <div className="actions">
          <button type="submit" className="primary" disabled={create.isPending || events.size === 0}>
            Create webhook
          </button>
        </div>
      </form>
    </section>
  );
}

/** One subscription: its deliveries with their answers, redelivery, a test event, enable/disable. */
export function WebhookDetail({ id }: { id: string }) {
  const webhooks = useWebhooks();
  const hook = webhooks.data?.find((h) => h.id === id);
  const deliveries = useDeliveries(id);
  const redeliver = useRedeliver(id);
  const test = useTestEvent(id);
  const setEnabled = useSetEnabled();
  return (
    <main className="page">
      <p>
        <a href="/webhooks" onClick={onLinkClick}>
          ← Webhooks
        </a>
      </p>
      <h1>{hook?.url ?? 'Webhook'}</h1>
      <ErrorNotice error={webhooks.error ?? deliveries.error ?? redeliver.error ?? test.error ?? setEnabled.error} />
      {webhooks.isSuccess && !hook && <p>No webhook with this id.</p>}
      {hook && (
        <>
          <p>
            {hook.format} · {hook.events.join(', ')} · {hook.environments?.join(', ') ?? 'every environment'} ·{' '}
            <strong>{hook.enabled ? 'enabled' : `disabled${hook.disabledReason ? `: ${hook.disabledReason}` : ''}`}</strong>
          </p>
          <div className="actions">
            <button type="button" onClick={() => test.mutate()} disabled={test.isPending}>
              Send test event
            </button>
            <button type="button" onClick={() => setEnabled.mutate({ id, enabled: !hook.enabled })} disabled={setEnabled.isPending}>
              {hook.enabled ? 'Disable' : 'Enable'}
            </button>
          </div>
        </>
      )}
      <h2>Deliveries</h2>
      {deliveries.isSuccess && deliveries.data.length === 0 && <p>Nothing sent yet.</p>}
      {deliveries.isSuccess && deliveries.data.length > 0 && (
        <table className="deliveries">
          <caption className="visually-hidden">Newest deliveries first</caption>
          <TableHead columns={['Event', 'State', 'Attempts', 'Answer', 'Sent']} actions />
          <tbody>
            {deliveries.data.map((d) => (
              <DeliveryRow key={d.id} delivery={d} onRedeliver={() => redeliver.mutate(d.id)} busy={redeliver.isPending} />
            ))}
          </tbody>
        </table>
      )}
    </main>
  );
}

function DeliveryRow({ delivery: d, onRedeliver, busy }: { delivery: Delivery; onRedeliver: () => void; busy: boolean }) {
  const answer = d.status === null ? (d.error ?? '—') : `${d.status}${d.latencyMs === null ? '' : ` in ${d.latencyMs} ms`}${d.error ? `: ${d.error}` : ''}`;
  return (
    <tr data-delivery={d.id} data-state={d.state}>
      <td>
        <code>{d.type}</code>
      </td>
      <td>
        {d.state}
        {d.nextAttemptAt && <div className="muted">next try {ago(d.nextAttemptAt)}</div>}
      </td>
      <td>{d.attempts}</td>
      <td>
        {answer}
        {d.response && (
          <details>
            <summary>Response</summary>
            <pre className="json">{d.response}</pre>
          </details>
        )}
      </td>
      <td>
        <time dateTime={d.createdAt} title={when(d.createdAt)}>
          {ago(d.createdAt)}
        </time>
      </td>
      <td>
        {d.state !== 'pending' && (
          <button type="button" onClick={onRedeliver} disabled={busy} aria-label={`Redeliver ${d.type} ${d.eventId}`}>
            Redeliver
          </button>
        )}
      </td>
    </tr>
  );
}
