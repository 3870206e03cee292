import { useState, type FormEvent } from 'react';
import { Dialog } from '../../components/Dialog';
import { Field } from '../../components/Field';
import { ErrorNotice } from '../../components/Notice';
import { useKill, useRevive } from './api';

export interface SwitchTarget {
  action: 'kill' | 'revive';
  env: string;
  key: string;
  production: boolean;
}

/** Kill or revive one flag in one environment, with a reason for the audit log. */
export function SwitchDialog({ target, onClose }: { target: SwitchTarget | null; onClose: () => void }) {
  const kill = useKill();
  const revive = useRevive();
  const mutation = target?.action === 'revive' ? revive : kill;
  const [reason, setReason] = useState('');
  const close = () => {
    setReason('');
    kill.reset();
    revive.reset();
    onClose();
  };
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!target) return;
    mutation.mutate({ env: target.env, key: target.key, reason: reason.trim() || undefined }, { onSuccess: close });
  };
  const verb = target?.action === 'revive' ? 'Revive' : 'Kill';
  const title = target ? `${verb} ${target.key} in ${target.env}` : '';
  return (
    <Dialog title={title} open={target !== null} onClose={close}>
      {target && (
        <form onSubmit={submit} className="stack">
          <p>
            {target.action === 'kill'
              ? 'The flag turns off for everyone in this environment at once; its rules stay as they are.'
              : 'The flag turns back on: its rules and rollout apply again.'}
            {target.production && <strong className="production-text"> This is production.</strong>}
          </p>
          <Field label="Reason" value={reason} onChange={(e) => setReason(e.target.value)} hint="Kept in the audit log." autoFocus maxLength={1000} />
          <ErrorNotice error={mutation.error} />
          <div className="actions">
            <button type="button" onClick={close}>
              Cancel
            </button>
            <button type="submit" className={target.action === 'kill' ? 'danger' : 'primary'} disabled={mutation.isPending}>
              {verb}
            </button>
          </div>
        </form>
      )}
    </Dialog>
  );
}
