import { useState, type FormEvent } from 'react';
import { Field } from '../../components/Field';
import { ErrorNotice } from '../../components/Notice';
import { fieldError } from '../../lib/api';
import { navigate } from '../../lib/router';
import { useAcceptInvite, useSetup } from './api';

/** First run: the one-time link `/setup?token=` creates the first admin and signs them in. */
export function Setup({ token }: { token: string }) {
  const setup = useSetup();
  const [form, setForm] = useState({ email: '', name: '', password: '' });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    setup.mutate({ token, ...form }, { onSuccess: () => navigate('/', { replace: true }) });
  };
  return (
    <main className="auth-page">
      <h1>Set up Aviary</h1>
      <p>Create the first admin. This link works once.</p>
      <form onSubmit={submit} className="stack" noValidate>
        <Field label="Email" type="email" autoComplete="username" required value={form.email} onChange={(e) => setForm({ ...form, email: e.target.value })} error={fieldError(setup.error, 'email')} />
        <Field label="Name" autoComplete="name" required value={form.name} onChange={(e) => setForm({ ...form, name: e.target.value })} error={fieldError(setup.error, 'name')} />
        <Field
          label="Password"
          type="password"
          autoComplete="new-password"
          required
          minLength={12}
          hint="At least 12 characters, not your email address."
          value={form.password}
          onChange={(e) => setForm({ ...form, password: e.target.value })}
          error={fieldError(setup.error, 'password')}
        />
        <ErrorNotice error={setup.error} />
        <button type="submit" className="primary" disabled={setup.isPending}>
          Create admin
        </button>
      </form>
    </main>
  );
}

/** `/invite?token=`: the invited person chooses a password and is signed in. */
export function AcceptInvite({ token }: { token: string }) {
  const accept = useAcceptInvite();
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const submit = (event: FormEvent) => {
    event.preventDefault();
    accept.mutate({ token, password, ...(name ? { name } : {}) }, { onSuccess: () => navigate('/', { replace: true }) });
  };
  return (
    <main className="auth-page">
      <h1>Join Aviary</h1>
      <p>Choose a password to accept your invitation.</p>
      <form onSubmit={submit} className="stack" noValidate>
        <Field label="Name" autoComplete="name" hint="Optional: keeps the name your admin entered when empty." value={name} onChange={(e) => setName(e.target.value)} error={fieldError(accept.error, 'name')} />
        <Field
          label="Password"
          type="password"
          autoComplete="new-password"
          required
          minLength={12}
          hint="At least 12 characters, not your email address."
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          error={fieldError(accept.error, 'password')}
        />
        <ErrorNotice error={accept.error} />
        <button type="submit" className="primary" disabled={accept.isPending}>
          Accept invitation
        </button>
      </form>
    </main>
  );
}
