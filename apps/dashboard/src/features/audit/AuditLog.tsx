import { useDeferredValue, useState } from 'react';
import { Field } from '../../components/Field';
import { ErrorNotice } from '../../components/Notice';
import { ago, when } from '../../lib/time';
import { useAudit, type AuditEvent, type AuditFilters } from './api';

const clean = (filters: AuditFilters): AuditFilters =>
  Object.fromEntries(Object.entries(filters).filter(([, v]) => v !== undefined && v !== '')) as AuditFilters;

/** Who changed what, when and why, newest first, with filters and the before/after of each write. */
export function AuditLog({ env }: { env: string }) {
  const [form, setForm] = useState({ resource: '', action: '', person: '', since: '', until: '', onlyEnv: false });
  const filters = useDeferredValue(
    clean({
      resource: form.resource.trim(),
      action: form.action.trim(),
      person: form.person.trim(),
      environment: form.onlyEnv ? env : undefined,
      since: form.since ? new Date(form.since).toISOString() : undefined,
      until: form.until ? new Date(form.until).toISOString() : undefined,
    }),
  );
  const audit = useAudit(filters);
  const events = audit.data?.pages.flatMap((p) => p.items) ?? [];
  return (
    <main className="page">
      <h1>Audit log</h1>
      <form className="filters" role="search" onSubmit={(e) => e.preventDefault()}>
        <Field label="Resource" value={form.resource} onChange={(e) => setForm({ ...form, resource: e.target.value })} placeholder="Flag or cohort key" />
        <Field label="Action" value={form.action} onChange={(e) => setForm({ ...form, action: e.target.value })} placeholder="flag-config.kill" />
        <Field label="Person" value={form.person} onChange={(e) => setForm({ ...form, person: e.target.value })} placeholder="Email" />
        <Field label="Since" type="datetime-local" value={form.since} onChange={(e) => setForm({ ...form, since: e.target.value })} />
        <Field label="Until" type="datetime-local" value={form.until} onChange={(e) => setForm({ ...form, until: e.target.value })} />
        <div className="field checkbox">
          <input id="audit-only-env" type="checkbox" checked={form.onlyEnv} onChange={(e) => setForm({ ...form, onlyEnv: e.target.checked })} />
          <label htmlFor="audit-only-env">Only {env}</label>
        </div>
      </form>
      <ErrorNotice error={audit.error} />
      {audit.isPending && <p role="status">Loading…</p>}
      {audit.isSuccess && events.length === 0 && <p>No entries match.</p>}
      <ol className="audit">
        {events.map((event) => (
          <AuditEntry key={event.id} event={event} />
        ))}
      </ol>
      {audit.hasNextPage && (
        <button type="button" onClick={() => audit.fetchNextPage()} disabled={audit.isFetchingNextPage}>
          Older entries
        </button>
      )}
    </main>
  );
}

function AuditEntry({ event }: { event: AuditEvent }) {
  const who = event.actor.email ?? event.actor.name;
  return (
    <li className="audit-entry" data-action={event.action}>
      <div>
        <strong>{who}</strong> <code>{event.action}</code> {event.resourceType} <strong>{event.resourceKey}</strong>
        {event.environment && <> in {event.environment}</>}{' '}
        <time dateTime={event.createdAt} title={when(event.createdAt)} className="muted">
          {ago(event.createdAt)}
        </time>
      </div>
      {event.reason && <p className="reason">Reason: {event.reason}</p>}
      {(event.before !== null || event.after !== null) && (
        <details>
          <summary>Before and after</summary>
          <div className="diff">
            <div>
              <h3>Before</h3>
              <pre className="json">{JSON.stringify(event.before, null, 2) ?? '—'}</pre>
            </div>
            <div>
              <h3>After</h3>
              <pre className="json">{JSON.stringify(event.after, null, 2) ?? '—'}</pre>
            </div>
          </div>
        </details>
      )}
    </li>
  );
}
