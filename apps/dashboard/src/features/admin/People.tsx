import { useId, useState, type FormEvent } from 'react';
import { Field } from '../../components/Field';
import { ErrorNotice, Notice } from '../../components/Notice';
import { TableHead } from '../../components/TableHead';
import { fieldError } from '../../lib/api';
import { useInvitePerson, usePeople, useUpdatePerson, type Person } from './api';
import { CopyField } from './CopyField';

type Role = Person['role'];
const ROLES: Role[] = ['viewer', 'editor', 'admin'];
const envList = (text: string) => {
  const list = text.split(',').map((e) => e.trim()).filter(Boolean);
  return list.length > 0 ? list : null;
};

/** People: invite (the link is shown to pass on), change role and environments, disable. Admins only. */
export function People({ selfId }: { selfId: string }) {
  const people = usePeople();
  const invite = useInvitePerson();
  const update = useUpdatePerson();
  const [form, setForm] = useState({ email: '', name: '', role: 'editor' as Role, environments: '' });
  const roleId = useId();
  const submit = (event: FormEvent) => {
    event.preventDefault();
    invite.mutate({ email: form.email.trim(), name: form.name.trim(), role: form.role, ...(form.role === 'editor' ? { environments: envList(form.environments) } : {}) });
  };
  return (
    <section className="card" aria-labelledby="people-heading">
      <h2 id="people-heading">People</h2>
      <form onSubmit={submit} className="filters" noValidate>
        <Field label="Email" type="email" required value={form.email} onChange={(e) => setForm({ ...form, email: e.target.value })} error={fieldError(invite.error, 'email')} />
        <Field label="Name" required value={form.name} onChange={(e) => setForm({ ...form, name: e.target.value })} error={fieldError(invite.error, 'name')} />
        <div className="field">
          <label htmlFor={roleId}>Role</label>
          <select id={roleId} value={form.role} onChange={(e) => setForm({ ...form, role: e.target.value as Role })}>
            {ROLES.map((r) => (
              <option key={r} value={r}>
                {r}
              </option>
            ))}
          </select>
        </div>
        {form.role === 'editor' && (
          <Field label="Environments" value={form.environments} onChange={(e) => setForm({ ...form, environments: e.target.value })} hint="Comma-separated; empty: every environment." error={fieldError(invite.error, 'environments')} />
        )}
        <button type="submit" className="primary" disabled={invite.isPending}>
          Invite
        </button>
      </form>
      <ErrorNotice error={invite.error} />
      {invite.data && (
        <Notice>
          <p>{invite.data.email} is invited. Pass this one-time link on (valid for 7 days); no email is sent.</p>
          <CopyField label="Invite link" value={invite.data.inviteUrl} />
        </Notice>
      )}
      <ErrorNotice error={people.error ?? update.error} />
      {people.data && (
        <table className="flag-table">
          <TableHead columns={['Person', 'Role', 'Environments', 'State']} actions />
          <tbody>
            {people.data.map((person) => (
              <PersonRow key={person.id} person={person} self={person.id === selfId} onUpdate={(body) => update.mutate({ id: person.id, ...body })} />
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function PersonRow({ person, self, onUpdate }: { person: Person; self: boolean; onUpdate: (body: { role?: Role; disabled?: boolean }) => void }) {
  const nameId = `person-${person.id}`;
  return (
    <tr data-person={person.email}>
      <td data-label="Person" id={nameId}>
        {person.name} <span className="muted">{person.email}</span>
      </td>
      <td data-label="Role">
        <select aria-label={`Role of ${person.email}`} value={person.role} onChange={(e) => onUpdate({ role: e.target.value as Role })}>
          {ROLES.map((r) => (
            <option key={r} value={r}>
              {r}
            </option>
          ))}
        </select>
      </td>
      <td data-label="Environments">{person.environments ? person.environments.join(', ') : 'all'}</td>
      <td data-label="State">{person.state}</td>
      <td className="row-actions">
        {!self &&
          (person.state === 'disabled' ? (
            <button type="button" aria-describedby={nameId} onClick={() => onUpdate({ disabled: false })}>
              Enable
            </button>
          ) : (
            <button type="button" className="danger" aria-describedby={nameId} onClick={() => onUpdate({ disabled: true })}>
              Disable
            </button>
          ))}
      </td>
    </tr>
  );
}
