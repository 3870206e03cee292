import { useState, type FormEvent } from 'react';
import { Field } from '../../components/Field';
import { ErrorNotice, Notice } from '../../components/Notice';
import { fieldError } from '../../lib/api';
import { useLogin, useSignInOptions } from './api';

export function SignIn() {
  const options = useSignInOptions();
  const login = useLogin();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const submit = (event: FormEvent) => {
    event.preventDefault();
    login.mutate({ email, password });
  };
  return (
    <main className="auth-page">
      <h1>Sign in to Aviary</h1>
      <ErrorNotice error={options.error} />
      {options.data?.setupRequired && <Notice>Nobody can sign in yet: open the one-time setup link the server printed when it started.</Notice>}
      {options.data?.password !== false && (
        <form onSubmit={submit} className="stack" noValidate>
          <Field label="Email" type="email" autoComplete="username" required value={email} onChange={(e) => setEmail(e.target.value)} error={fieldError(login.error, 'email')} />
          <Field
            label="Password"
            type="password"
            autoComplete="current-password"
            required
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            error={fieldError(login.error, 'password')}
          />
          <ErrorNotice error={login.error} />
          <button type="submit" className="primary" disabled={login.isPending}>
            Sign in
          </button>
        </form>
      )}
      {options.data?.oidc && (
        <a className="button" href="/api/v1/auth/oidc/login">
          Sign in with SSO
        </a>
      )}
    </main>
  );
}
