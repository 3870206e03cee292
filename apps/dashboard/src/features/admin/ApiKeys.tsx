import { useId, useState, type FormEvent } from 'react';
import { Dialog } from '../../components/Dialog';
import { Field } from '../../components/Field';
import { ErrorNotice, Notice } from '../../components/Notice';
import { TableHead } from '../../components/TableHead';
import { fieldError } from '../../lib/api';
import { ago } from '../../lib/time';
import type { Environment } from '../environments/api';
import { useApiKeys, useCreateApiKey, useRevokeApiKey, type ApiKey } from './api';
import { CopyField } from './CopyField';

type Kind = 'admin' | 'server' | 'client';

/** API keys for programs: create (the secret is shown once), revoke (a revoked key leaves the list). Admins only. */
export function ApiKeys({ environments }: { environments: Environment[] }) {
  const keys = useApiKeys();
  const create = useCreateApiKey();
  const revoke = useRevokeApiKey();
  const [form, setForm] = useState({ name: '', kind: 'server' as Kind, environment: environments[0]?.key ?? '', readOnly: false, origins: '' });
  const [revoking, setRevoking] = useState<ApiKey | null>(null);
  const [reason, setReason] = useState('');
  const kindId = useId();
  const envId = useId();
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const origins = form.origins.split(',').map((o) => o.trim()).filter(Boolean);
    create.mutate({
      name: form.name.trim(),
      kind: form.kind,
      readOnly: form.kind === 'admin' && form.readOnly,
      ...(form.kind === 'admin' ? {} : { environment: form.environment }),
      ...(form.kind === 'client' && origins.length > 0 ? { allowedOrigins: origins } : {}),
    });
  };
  const closeRevoke = () => {
    setRevoking(null);
    setReason('');
    revoke.reset();
  };
  return (
    <section className="card" aria-labelledby="keys-heading">
      <h2 id="keys-heading">API keys</h2>
      <form onSubmit={submit} className="filters" noValidate>
        <Field label="Key name" required value={form.name} onChange={(e) => setForm({ ...form, name: e.target.value })} error={fieldError(create.error, 'name')} />
        <div className="field">
          <label htmlFor={kindId}>Kind</label>
          <select id={kindId} value={form.kind} onChange={(e) => setForm({ ...form, kind: e.target.value as Kind })}>
            <option value="server">server (one environment, full ruleset)</option>
            <option value="client">client (one environment, browser-safe)</option>
            <option value="admin">admin (the admin API)</option>
          </select>
        </div>
        {form.kind !== 'admin' && (
          <div className="field">
            <label htmlFor={envId}>Key environment</label>
            <select id={envId} value={form.environment} onChange={(e) => setForm({ ...form, environment: e.target.value })}>
              {environments.map((env) => (
                <option key={env.key} value={env.key}>
                  {env.key}
                </option>
              ))}
            </select>
          </div>
        )}
        {form.kind === 'admin' && (
          <div className="field checkbox">
            <input id="key-read-only" type="checkbox" checked={form.readOnly} onChange={(e) => setForm({ ...form, readOnly: e.target.checked })} />
            <label htmlFor="key-read-only">Read-only</label>
          </div>
        )}
        {form.kind === 'client' && (
          <Field label="Allowed origins" value={form.origins} onChange={(e) => setForm({ ...form, origins: e.target.value })} hint="Comma-separated, e.g. https://app.example.com; empty: the server-wide setting." error={fieldError(create.error, 'allowedOrigins')} />
        )}
        <button type="submit" className="primary" disabled={create.isPending}>
          Create key
        </button>
      </form>
      <ErrorNotice error={create.error} />
      {create.data && (
        <Notice>
          <p>Key “{create.data.name}” created. Store the secret now: it is shown only this once.</p>
          <CopyField label="Secret (shown once)" value={create.data.secret} />
        </Notice>
      )}
      <ErrorNotice error={keys.error} />
      {keys.data && (
        <table className="flag-table">
          <TableHead columns={['Name', 'Kind', 'Prefix', 'Last used']} actions />
          <tbody>
            {keys.data.map((key) => (
              <tr key={key.id} data-key={key.name}>
                <td data-label="Name" id={`key-${key.id}`}>
                  {key.name}
                  {key.createdBy && <div className="muted">by {key.createdBy.email}</div>}
                </td>
                <td data-label="Kind">
                  {key.kind}
                  {key.environment ? ` · ${key.environment}` : ''}
                  {key.readOnly ? ' · read-only' : ''}
                </td>
                <td data-label="Prefix">
                  <code>{key.prefix}</code>
                </td>
                <td data-label="Last used">{key.revokedAt ? `revoked ${ago(key.revokedAt)}` : key.lastUsedAt ? ago(key.lastUsedAt) : 'never'}</td>
                <td className="row-actions">
                  {!key.revokedAt && (
                    <button type="button" className="danger" aria-describedby={`key-${key.id}`} onClick={() => setRevoking(key)}>
                      Revoke
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <Dialog title={revoking ? `Revoke ${revoking.name}` : ''} open={revoking !== null} onClose={closeRevoke}>
        {revoking && (
          <form
            className="stack"
            onSubmit={(e) => {
              e.preventDefault();
              revoke.mutate({ id: revoking.id, reason: reason.trim() || undefined }, { onSuccess: closeRevoke });
            }}
          >
            <p>Programs using this key are refused at once, on every instance.</p>
            <Field label="Reason" value={reason} onChange={(e) => setReason(e.target.value)} autoFocus />
            <ErrorNotice error={revoke.error} />
            <div className="actions">
              <button type="button" onClick={closeRevoke}>
                Cancel
              </button>
              <button type="submit" className="danger" disabled={revoke.isPending}>
                Revoke
              </button>
            </div>
          </form>
        )}
      </Dialog>
    </section>
  );
}
