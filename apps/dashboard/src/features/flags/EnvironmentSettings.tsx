import { useId, useState, type FormEvent } from 'react';
import { Field } from '../../components/Field';
import { ErrorNotice, Notice } from '../../components/Notice';
import { ApiError, fieldErrorUnder, type Schemas } from '../../lib/api';
import type { Permissions } from '../../lib/permissions';
import { useFlagList, useSaveConfig, type FlagConfig } from './api';
import { ConflictNotice } from './ConflictNotice';

type Prerequisite = Schemas['PrerequisiteDto'];

interface Draft {
  salt: string;
  prerequisites: Array<{ flag: string; enabled: boolean; variants: string }>;
}

const draftOf = (config: FlagConfig): Draft => ({
  salt: config.salt,
  prerequisites: config.prerequisites.map((p) => ({ flag: p.flag, enabled: p.enabled ?? true, variants: (p.variants ?? []).join(', ') })),
});

function prerequisitesOf(draft: Draft): Prerequisite[] {
  return draft.prerequisites.map((p) => {
    const variants = p.variants.split(',').map((v) => v.trim()).filter(Boolean);
    return { flag: p.flag.trim(), enabled: p.enabled, ...(p.enabled && variants.length > 0 ? { variants } : {}) };
  });
}

const storedText = (config: FlagConfig) => JSON.stringify({ salt: config.salt, prerequisites: config.prerequisites }, null, 2);

/** This environment's salt and prerequisites, saved with If-Match on the config version. */
export function EnvironmentSettings({ env, flagKey, config, can }: { env: string; flagKey: string; config: FlagConfig; can: Permissions }) {
  const save = useSaveConfig();
  const flags = useFlagList(env);
  const id = useId();
  const [draft, setDraft] = useState<{ value: Draft; base: number } | null>(null);
  const value = draft?.value ?? draftOf(config);
  const readOnly = !can.change;
  const edit = (patch: Partial<Draft>) => setDraft({ value: { ...value, ...patch }, base: draft?.base ?? config.version });
  const setPrerequisite = (i: number, patch: Partial<Draft['prerequisites'][number]>) => edit({ prerequisites: value.prerequisites.map((p, j) => (j === i ? { ...p, ...patch } : p)) });
  const dirty = draft !== null && JSON.stringify(draft.value) !== JSON.stringify(draftOf(config));
  const badRequest = save.error instanceof ApiError && save.error.status === 400 ? save.error : undefined;
  const conflict = save.error instanceof ApiError && save.error.status === 412;
  const at = (path: string) => fieldErrorUnder(badRequest, path);
  const others = (flags.data?.items ?? []).map((f) => f.key).filter((k) => k !== flagKey);
  const submit = (version: number) => {
    const salt = value.salt.trim();
    save.mutate({ env, key: flagKey, version, ...(salt !== '' ? { salt } : {}), prerequisites: prerequisitesOf(value) }, { onSuccess: () => setDraft(null) });
  };
  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    submit(draft?.base ?? config.version);
  };
  return (
    <section className="card" aria-labelledby="settings-heading">
      <h2 id="settings-heading">Salt and prerequisites in {env}</h2>
      <form onSubmit={onSubmit} className="stack" noValidate>
        <Field label="Salt" value={value.salt} readOnly={readOnly} placeholder={flagKey} onChange={(e) => edit({ salt: e.target.value })} hint="Flags with the same salt and percentage pick the same users; a new salt picks new ones." error={at('salt')} />
        <div role="group" aria-labelledby={`${id}-pre`} className="stack">
          <h3 id={`${id}-pre`}>Prerequisites</h3>
          {value.prerequisites.length === 0 && <p className="muted">None: the flag does not depend on another.</p>}
          <datalist id={`${id}-flags`}>
            {others.map((k) => (
              <option key={k} value={k} />
            ))}
          </datalist>
          {value.prerequisites.map((p, i) => (
            <fieldset key={i} className="condition">
              <legend>Prerequisite {i + 1}</legend>
              <Field label="Prerequisite flag" list={`${id}-flags`} value={p.flag} readOnly={readOnly} onChange={(e) => setPrerequisite(i, { flag: e.target.value })} error={at(`prerequisites[${i}].flag`) ?? at(`prerequisites[${i}]`)} />
              <div className="field">
                <label htmlFor={`${id}-state-${i}`}>Must be</label>
                <select id={`${id}-state-${i}`} value={p.enabled ? 'on' : 'off'} disabled={readOnly} onChange={(e) => setPrerequisite(i, { enabled: e.target.value === 'on' })}>
                  <option value="on">on</option>
                  <option value="off">off</option>
                </select>
              </div>
              {p.enabled && <Field label="Serving one of the variants" value={p.variants} readOnly={readOnly} onChange={(e) => setPrerequisite(i, { variants: e.target.value })} hint="Comma-separated; empty: any." error={at(`prerequisites[${i}].variants`)} />}
              {!readOnly && (
                <button type="button" className="remove" onClick={() => edit({ prerequisites: value.prerequisites.filter((_, j) => j !== i) })}>
                  Remove prerequisite {i + 1}
                </button>
              )}
            </fieldset>
          ))}
          {!readOnly && (
            <div className="actions actions-start">
              <button type="button" onClick={() => edit({ prerequisites: [...value.prerequisites, { flag: '', enabled: true, variants: '' }] })}>
                Add prerequisite
              </button>
            </div>
          )}
          {at('prerequisites') && !value.prerequisites.some((_, i) => at(`prerequisites[${i}]`)) && <p className="field-error">{at('prerequisites')}</p>}
        </div>
        {badRequest && (
          <p role="alert" className="field-error">
            {badRequest.message}
          </p>
        )}
        {save.error instanceof ApiError && !badRequest && !conflict && <ErrorNotice error={save.error} />}
        {conflict && (
          <ConflictNotice
            message={save.error!.message}
            what={`Someone else saved this flag in ${env} while you were editing (version ${config.version}).`}
            stored={storedText(config)}
            onReapply={() => submit(config.version)}
            onDiscard={() => {
              setDraft(null);
              save.reset();
            }}
          />
        )}
        {save.isSuccess && draft === null && <Notice>Salt and prerequisites saved (version {save.data.version}).</Notice>}
        {!readOnly && (
          <div className="actions">
            <button type="submit" className="primary" disabled={!dirty || save.isPending}>
              Save salt and prerequisites
            </button>
          </div>
        )}
      </form>
    </section>
  );
}
