import { useState, type FormEvent } from 'react';
import { Field } from '../../components/Field';
import { ErrorNotice } from '../../components/Notice';
import { TableHead } from '../../components/TableHead';
import { fieldError } from '../../lib/api';
import type { Permissions } from '../../lib/permissions';
import { navigate, onLinkClick } from '../../lib/router';
import { when } from '../../lib/time';
import { useCohorts, useCreateCohort } from './api';

/** Every cohort with its member counts; editors of every environment create one here. */
export function Cohorts({ can }: { can: Permissions }) {
  const cohorts = useCohorts();
  const items = cohorts.data?.items ?? [];
  return (
    <main className="page">
      <h1>Cohorts</h1>
      <p className="muted">Named groups of context keys, shared by every environment; a rule can require its users to be in one.</p>
      <ErrorNotice error={cohorts.error} />
      {cohorts.isPending && <p role="status">Loading…</p>}
      {cohorts.isSuccess && items.length === 0 && <p>No cohorts yet.</p>}
      {items.length > 0 && (
        <table className="flag-table">
          <caption className="visually-hidden">Cohorts</caption>
          <TableHead columns={['Cohort', 'Members', 'Excluded', 'Conditions', 'Last change']} />
          <tbody>
            {items.map((cohort) => (
              <tr key={cohort.key} data-cohort={cohort.key}>
                <td>
                  <a href={`/cohorts/${encodeURIComponent(cohort.key)}`} onClick={onLinkClick} className="flag-key">
                    {cohort.key}
                  </a>
                  {cohort.name !== cohort.key && <div>{cohort.name}</div>}
                  {cohort.description && <div className="muted">{cohort.description}</div>}
                </td>
                <td data-label="Members">{cohort.counts.included.toLocaleString('en')}</td>
                <td data-label="Excluded">{cohort.counts.excluded.toLocaleString('en')}</td>
                <td data-label="Conditions">{cohort.conditions.length}</td>
                <td data-label="Last change">{when(cohort.updatedAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {can.define && <NewCohortForm />}
    </main>
  );
}

function NewCohortForm() {
  const create = useCreateCohort();
  const [key, setKey] = useState('');
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const submit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate(
      { key: key.trim(), name: name.trim() || undefined, description: description.trim() || undefined },
      { onSuccess: (created) => navigate(`/cohorts/${encodeURIComponent(created.key)}${window.location.search}`) },
    );
  };
  const known = ['key', 'name', 'description'];
  const other = create.error && !known.some((path) => fieldError(create.error, path)) ? create.error : null;
  return (
    <section className="card" aria-labelledby="new-cohort">
      <h2 id="new-cohort">New cohort</h2>
      <form onSubmit={submit} className="stack" noValidate>
        <Field label="Cohort key" required value={key} onChange={(e) => setKey(e.target.value)} placeholder="beta-testers" error={fieldError(create.error, 'key')} />
        <Field label="Cohort name" value={name} onChange={(e) => setName(e.target.value)} hint="Defaults to the key." error={fieldError(create.error, 'name')} />
        <Field label="Cohort description" value={description} onChange={(e) => setDescription(e.target.value)} error={fieldError(create.error, 'description')} />
        <ErrorNotice error={other} />
        <div className="actions">
          <button type="submit" className="primary" disabled={create.isPending}>
            Create cohort
          </button>
        </div>
      </form>
    </section>
  );
}
