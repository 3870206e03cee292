import { useState, type FormEvent } from 'react';
import { ConditionBuilder, type Condition } from '../../components/ConditionBuilder';
import { Dialog } from '../../components/Dialog';
import { Field } from '../../components/Field';
import { ErrorNotice, Notice } from '../../components/Notice';
import { ApiError, fieldErrorUnder } from '../../lib/api';
import type { Permissions } from '../../lib/permissions';
import { navigate, onLinkClick } from '../../lib/router';
import { when } from '../../lib/time';
import { keysOf } from './keys';
import { MEMBERS_PER_CALL, useCohort, useDeleteCohort, useMemberLookup, useRemoveMember, useUpdateCohort, useUploadMembers, type Cohort, type MemberAction, type UploadProgress } from './api';

const n = (value: number) => value.toLocaleString('en');

/** One cohort (webhook links point here): its conditions, member uploads and a member lookup. */
export function CohortDetail({ cohortKey, can }: { cohortKey: string; can: Permissions }) {
  const cohort = useCohort(cohortKey);
  return (
    <main className="page">
      <p>
        <a href={`/cohorts${window.location.search}`} onClick={onLinkClick}>
          ← All cohorts
        </a>
      </p>
      <h1>Cohort {cohortKey}</h1>
      <ErrorNotice error={cohort.error} />
      {cohort.isPending && <p role="status">Loading…</p>}
      {cohort.data && (
        <>
          <section className="card" aria-labelledby="members-heading">
            <h2 id="members-heading">Members</h2>
            <p data-testid="cohort-counts">
              <strong>{n(cohort.data.counts.included)}</strong> listed members, <strong>{n(cohort.data.counts.excluded)}</strong> excluded
              {cohort.data.name !== cohort.data.key && <> · {cohort.data.name}</>}
              <span className="muted"> · changed {when(cohort.data.updatedAt)}</span>
            </p>
            {cohort.data.description && <p className="muted">{cohort.data.description}</p>}
            <FindMember cohortKey={cohortKey} can={can} />
          </section>
          {can.define && <UploadMembers cohortKey={cohortKey} />}
          <ConditionsEditor cohort={cohort.data} can={can} />
          {can.define && <AboutCohort cohort={cohort.data} />}
        </>
      )}
    </main>
  );
}

/** "Is key X a member?", answered by the member lookup (one primary-key read on the server). */
function FindMember({ cohortKey, can }: { cohortKey: string; can: Permissions }) {
  const [text, setText] = useState('');
  const [asked, setAsked] = useState('');
  const lookup = useMemberLookup(cohortKey, asked);
  const remove = useRemoveMember();
  const submit = (e: FormEvent) => {
    e.preventDefault();
    remove.reset();
    setAsked(text.trim());
  };
  const list = lookup.data?.member === asked ? lookup.data.list : undefined;
  return (
    <form onSubmit={submit} className="stack" aria-labelledby="find-heading">
      <h3 id="find-heading">Find a member</h3>
      <div className="inline-form">
        <Field label="Member key" value={text} onChange={(e) => setText(e.target.value)} placeholder="user-42" />
        <button type="submit" disabled={text.trim() === ''}>
          Find
        </button>
      </div>
      <ErrorNotice error={lookup.error ?? remove.error} />
      {asked !== '' && list !== undefined && (
        <div role="status" className="notice notice-info" data-testid="member-answer">
          <p>
            <code>{asked}</code>{' '}
            {list === 'included' ? 'is a member (in the listed members).' : list === 'excluded' ? 'is not a member: it is excluded.' : 'is not a member of the list (the conditions may still include it).'}
          </p>
          {can.define && list !== null && (
            <button type="button" disabled={remove.isPending} onClick={() => remove.mutate({ key: cohortKey, member: asked })}>
              {list === 'included' ? `Remove ${asked} from the cohort` : `Drop ${asked} from the excluded keys`}
            </button>
          )}
        </div>
      )}
    </form>
  );
}

const ACTION_WORDS: Record<MemberAction, { label: string; done: (count: number) => string }> = {
  add: { label: 'Add them as members', done: (c) => `${n(c)} added` },
  remove: { label: 'Remove them from the cohort', done: (c) => `${n(c)} removed` },
  exclude: { label: 'Exclude them (never members)', done: (c) => `${n(c)} excluded` },
};

function UploadMembers({ cohortKey }: { cohortKey: string }) {
  const upload = useUploadMembers();
  const [file, setFile] = useState<File | null>(null);
  const [action, setAction] = useState<MemberAction>('add');
  const [progress, setProgress] = useState<UploadProgress | null>(null);
  const [readError, setReadError] = useState<string | null>(null);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!file) return;
    setReadError(null);
    upload.reset();
    let keys: string[];
    try {
      keys = keysOf(await file.text(), /\.csv$/i.test(file.name));
    } catch {
      setReadError(`The file ${file.name} cannot be read.`);
      return;
    }
    if (keys.length === 0) {
      setReadError(`The file ${file.name} holds no keys: put one key per line.`);
      return;
    }
    upload.mutate({ key: cohortKey, action, keys, onProgress: setProgress });
  };
  const result = upload.data;
  const applied = result ? (action === 'add' ? result.applied.added : action === 'remove' ? result.applied.removed : result.applied.excluded) : 0;
  return (
    <section className="card" aria-labelledby="upload-heading">
      <h2 id="upload-heading">Upload members</h2>
      <form onSubmit={(e) => void submit(e)} className="stack">
        <div className="field">
          <label htmlFor="members-file">File of keys (.txt or .csv)</label>
          <input id="members-file" type="file" accept=".txt,.csv,text/plain,text/csv" aria-describedby="members-file-hint" onChange={(e) => setFile(e.target.files?.[0] ?? null)} />
          <small id="members-file-hint" className="hint">
            One key per line (a .csv: the first column; a header named key is skipped). Sent in batches of {n(MEMBERS_PER_CALL)} keys.
          </small>
        </div>
        <div className="field">
          <label htmlFor="members-action">What to do with the keys</label>
          <select id="members-action" value={action} onChange={(e) => setAction(e.target.value as MemberAction)}>
            {(Object.keys(ACTION_WORDS) as MemberAction[]).map((a) => (
              <option key={a} value={a}>
                {ACTION_WORDS[a].label}
              </option>
            ))}
          </select>
        </div>
        {progress && (
          <div className="progress-row">
            <div
              role="progressbar"
              aria-label="Upload progress"
              aria-valuemin={0}
              aria-valuemax={progress.total}
              aria-valuenow={progress.done}
              aria-valuetext={`${n(progress.done)} of ${n(progress.total)} keys (batch ${progress.batch} of ${progress.batches})`}
              className="progress"
            >
              <div className="progress-bar" style={{ width: `${progress.total ? (100 * progress.done) / progress.total : 0}%` }} />
            </div>
            <span className="muted" aria-hidden="true">
              {n(progress.done)} of {n(progress.total)} keys · batch {progress.batch} of {progress.batches}
            </span>
          </div>
        )}
        {readError && (
          <div role="alert" className="notice notice-error">
            <p>{readError}</p>
          </div>
        )}
        <ErrorNotice error={upload.error} />
        {result && (
          <Notice>
            Done: {n(result.sent)} keys sent, {ACTION_WORDS[action].done(applied)}. The cohort now has {n(result.counts.included)} listed members and {n(result.counts.excluded)} excluded.
          </Notice>
        )}
        <div className="actions">
          <button type="submit" className="primary" disabled={!file || upload.isPending}>
            {upload.isPending ? 'Uploading…' : 'Upload keys'}
          </button>
        </div>
      </form>
    </section>
  );
}

/** The cohort's conditions: a context matching all of them is a member unless excluded. */
function ConditionsEditor({ cohort, can }: { cohort: Cohort; can: Permissions }) {
  const save = useUpdateCohort();
  // Null while nothing is edited: the editor then follows what is stored.
  const [draft, setDraft] = useState<Condition[] | null>(null);
  const conditions = draft ?? cohort.conditions;
  const dirty = draft !== null && JSON.stringify(draft) !== JSON.stringify(cohort.conditions);
  const badRequest = save.error instanceof ApiError && save.error.status === 400 ? save.error : undefined;
  const submit = (e: FormEvent) => {
    e.preventDefault();
    save.mutate({ key: cohort.key, conditions }, { onSuccess: () => setDraft(null) });
  };
  return (
    <section className="card" aria-labelledby="conditions-heading">
      <h2 id="conditions-heading">Conditions</h2>
      <p className="muted">A context that matches all of them is a member too (unless excluded); with none, only the listed keys are.</p>
      <form onSubmit={submit} className="stack" noValidate>
        <ConditionBuilder label="Cohort" conditions={conditions} onChange={setDraft} readOnly={!can.define} errorAt={(path) => fieldErrorUnder(badRequest, path)} />
        <ErrorNotice error={save.error} />
        {save.isSuccess && draft === null && <Notice>Conditions saved.</Notice>}
        {can.define && (
          <div className="actions">
            <button type="submit" className="primary" disabled={!dirty || save.isPending}>
              Save conditions
            </button>
          </div>
        )}
      </form>
    </section>
  );
}

/** Name and description (PATCH), and deleting the cohort with a reason. */
function AboutCohort({ cohort }: { cohort: Cohort }) {
  const save = useUpdateCohort();
  const remove = useDeleteCohort();
  const [draft, setDraft] = useState<{ name: string; description: string } | null>(null);
  const [deleting, setDeleting] = useState(false);
  const [reason, setReason] = useState('');
  const value = draft ?? { name: cohort.name, description: cohort.description };
  const dirty = draft !== null && (draft.name !== cohort.name || draft.description !== cohort.description);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    save.mutate({ key: cohort.key, name: value.name, description: value.description }, { onSuccess: () => setDraft(null) });
  };
  const close = () => {
    setDeleting(false);
    setReason('');
    remove.reset();
  };
  const confirm = (e: FormEvent) => {
    e.preventDefault();
    remove.mutate({ key: cohort.key, reason: reason.trim() || undefined }, { onSuccess: () => navigate(`/cohorts${window.location.search}`) });
  };
  const known = save.error && ['name', 'description'].some((p) => fieldErrorUnder(save.error, p));
  return (
    <section className="card" aria-labelledby="about-heading">
      <h2 id="about-heading">Name, description, delete</h2>
      <form onSubmit={submit} className="stack" noValidate>
        <Field label="Cohort name" value={value.name} onChange={(e) => setDraft({ ...value, name: e.target.value })} error={fieldErrorUnder(save.error, 'name')} />
        <Field label="Cohort description" value={value.description} onChange={(e) => setDraft({ ...value, description: e.target.value })} error={fieldErrorUnder(save.error, 'description')} />
        {!known && <ErrorNotice error={save.error} />}
        {save.isSuccess && draft === null && <Notice>Name and description saved.</Notice>}
        <div className="actions">
          <button type="button" className="danger" onClick={() => setDeleting(true)}>
            Delete cohort
          </button>
          <button type="submit" className="primary" disabled={!dirty || save.isPending}>
            Save name and description
          </button>
        </div>
      </form>
      <Dialog title={`Delete cohort ${cohort.key}`} open={deleting} onClose={close}>
        <form onSubmit={confirm} className="stack">
          <p>The cohort and its {n(cohort.counts.included + cohort.counts.excluded)} listed keys go, in every environment. Refused while a flag&apos;s rule uses it.</p>
          <Field label="Reason" value={reason} onChange={(e) => setReason(e.target.value)} hint="Kept in the audit log." autoFocus maxLength={1000} />
          <ErrorNotice error={remove.error} />
          <div className="actions">
            <button type="button" onClick={close}>
              Cancel
            </button>
            <button type="submit" className="danger" disabled={remove.isPending}>
              Delete
            </button>
          </div>
        </form>
      </Dialog>
    </section>
  );
}
