import { useState, type FormEvent } from 'react';
import { Dialog } from '../../components/Dialog';
import { Field } from '../../components/Field';
import { ErrorNotice } from '../../components/Notice';
import { fieldError } from '../../lib/api';
import { navigate } from '../../lib/router';
import { useCreateFlag } from './api';

/** A new flag starts disabled in every environment. */
export function NewFlagDialog({ onClose }: { onClose: () => void }) {
  const create = useCreateFlag();
  const [form, setForm] = useState({ key: '', name: '', description: '', tags: '' });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const tags = form.tags.split(',').map((t) => t.trim()).filter(Boolean);
    create.mutate(
      { key: form.key.trim(), name: form.name.trim() || undefined, description: form.description || undefined, tags, clientVisible: false },
      { onSuccess: (flag) => navigate(`/flags/${encodeURIComponent(flag.key)}${window.location.search}`) },
    );
  };
  return (
    <Dialog title="New flag" open onClose={onClose}>
      <form onSubmit={submit} className="stack" noValidate>
        <Field label="Key" required autoFocus value={form.key} onChange={(e) => setForm({ ...form, key: e.target.value })} hint="Letters, digits, - and _; it cannot change later." error={fieldError(create.error, 'key')} />
        <Field label="Name" value={form.name} onChange={(e) => setForm({ ...form, name: e.target.value })} error={fieldError(create.error, 'name')} />
        <Field label="Description" value={form.description} onChange={(e) => setForm({ ...form, description: e.target.value })} error={fieldError(create.error, 'description')} />
        <Field label="Tags" value={form.tags} onChange={(e) => setForm({ ...form, tags: e.target.value })} hint="Separated by commas." error={fieldError(create.error, 'tags')} />
        <ErrorNotice error={create.error} />
        <div className="actions">
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="primary" disabled={create.isPending}>
            Create flag
          </button>
        </div>
      </form>
    </Dialog>
  );
}
