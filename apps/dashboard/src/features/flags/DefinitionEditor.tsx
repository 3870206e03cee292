import { useId, useState, type FormEvent } from 'react';
import { Field } from '../../components/Field';
import { ErrorNotice, Notice } from '../../components/Notice';
import { ApiError, fieldErrorUnder, type Schemas } from '../../lib/api';
import type { Permissions } from '../../lib/permissions';
import { useUpdateDefinition, type FlagDefinition } from './api';
import { ConflictNotice } from './ConflictNotice';

interface VariantDraft {
  key: string;
  /** The value as JSON text; empty: the variant has no value. */
  value: string;
  weight: string;
}

interface Draft {
  name: string;
  description: string;
  tags: string;
  clientVisible: boolean;
  variants: VariantDraft[];
}

function draftOf(flag: FlagDefinition): Draft {
  return {
    name: flag.name,
    description: flag.description,
    tags: flag.tags.join(', '),
    clientVisible: flag.clientVisible,
    variants: flag.variants.map((v) => ({ key: v.key, value: v.value === undefined ? '' : JSON.stringify(v.value, null, 1), weight: v.weight === undefined ? '' : String(v.weight) })),
  };
}

type Body = Schemas['UpdateFlagDto'];

/** The fields the draft changed from what was read, as the PATCH body (so re-applying after a 412
 *  keeps the other person's change to the rest), or the per-variant JSON errors that stop it. */
function bodyOf(draft: Draft, original: Draft): { body: Body; errors: Record<number, string> } {
  const errors: Record<number, string> = {};
  const variants = draft.variants.map((v, i) => {
    const variant: Schemas['VariantDto'] = { key: v.key.trim() };
    if (v.value.trim() !== '') {
      try {
        variant.value = JSON.parse(v.value);
      } catch (error) {
        errors[i] = `The value is not valid JSON: ${(error as Error).message}`;
      }
    }
    // A weight that is not a number goes as typed: the server names it at its field.
    if (v.weight.trim() !== '') variant.weight = Number.isFinite(Number(v.weight)) ? Number(v.weight) : (v.weight as unknown as number);
    return variant;
  });
  const body: Partial<Body> = {};
  if (draft.name !== original.name) body.name = draft.name;
  if (draft.description !== original.description) body.description = draft.description;
  if (draft.tags !== original.tags) body.tags = draft.tags.split(',').map((t) => t.trim()).filter(Boolean);
  if (draft.clientVisible !== original.clientVisible) body.clientVisible = draft.clientVisible;
  if (JSON.stringify(draft.variants) !== JSON.stringify(original.variants)) body.variants = variants;
  // `clientVisible` has a default, so the generated type calls it required; PATCH takes it omitted.
  return { body: body as Body, errors };
}

const definitionText = (flag: FlagDefinition) =>
  JSON.stringify({ name: flag.name, description: flag.description, tags: flag.tags, variants: flag.variants, clientVisible: flag.clientVisible }, null, 2);

/** Name, description, tags, variants and client visibility (every environment at once), saved with
 *  If-Match on the definition's ETag; a 412 shows what is stored now and re-applies on request. */
export function DefinitionEditor({ definition, can }: { definition: FlagDefinition; can: Permissions }) {
  const save = useUpdateDefinition();
  const id = useId();
  // Null while nothing is edited: the form then follows what is stored.
  const [draft, setDraft] = useState<{ value: Draft; original: Draft; base: string | null } | null>(null);
  const [jsonErrors, setJsonErrors] = useState<Record<number, string>>({});
  const value = draft?.value ?? draftOf(definition);
  const readOnly = !can.define;
  const edit = (patch: Partial<Draft>) => setDraft({ value: { ...value, ...patch }, original: draft?.original ?? draftOf(definition), base: draft?.base ?? definition.etag });
  const setVariant = (i: number, patch: Partial<VariantDraft>) => edit({ variants: value.variants.map((v, j) => (j === i ? { ...v, ...patch } : v)) });
  const badRequest = save.error instanceof ApiError && save.error.status === 400 ? save.error : undefined;
  const conflict = save.error instanceof ApiError && save.error.status === 412;
  const at = (path: string) => fieldErrorUnder(badRequest, path);
  const dirty = draft !== null && JSON.stringify(draft.value) !== JSON.stringify(draftOf(definition));
  const submit = (etag: string | null) => {
    const { body, errors } = bodyOf(value, draft?.original ?? draftOf(definition));
    setJsonErrors(errors);
    if (Object.keys(errors).length > 0) return;
    save.mutate({ key: definition.key, etag, ...body }, { onSuccess: () => setDraft(null) });
  };
  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    submit(draft?.base ?? definition.etag);
  };
  const shown = badRequest && !['name', 'description', 'tags', 'variants', 'clientVisible'].some((p) => at(p)) ? badRequest : undefined;
  return (
    <section className="card" aria-labelledby="definition-heading">
      <h2 id="definition-heading">Definition</h2>
      <p className="muted">Shared by every environment.</p>
      <form onSubmit={onSubmit} className="stack" noValidate>
        <Field label="Flag name" value={value.name} readOnly={readOnly} onChange={(e) => edit({ name: e.target.value })} error={at('name')} />
        <Field label="Flag description" value={value.description} readOnly={readOnly} onChange={(e) => edit({ description: e.target.value })} error={at('description')} />
        <Field label="Flag tags" value={value.tags} readOnly={readOnly} onChange={(e) => edit({ tags: e.target.value })} hint="Comma-separated." error={at('tags')} />
        <div className="field checkbox">
          <input id={`${id}-client`} type="checkbox" checked={value.clientVisible} disabled={readOnly} onChange={(e) => edit({ clientVisible: e.target.checked })} />
          <label htmlFor={`${id}-client`}>Client-visible (browser SDK keys see this flag)</label>
        </div>
        <div role="group" aria-labelledby={`${id}-variants`} className="stack">
          <h3 id={`${id}-variants`}>Variants</h3>
          {value.variants.length === 0 && <p className="muted">No variants: the flag is only on or off.</p>}
          {value.variants.map((v, i) => {
            const legend = `Variant ${i + 1}`;
            return (
              <fieldset key={i} className="condition">
                <legend>{legend}</legend>
                <Field label="Variant key" value={v.key} readOnly={readOnly} onChange={(e) => setVariant(i, { key: e.target.value })} error={at(`variants[${i}].key`) ?? at(`variants[${i}]`)} />
                <JsonField id={`${id}-value-${i}`} value={v.value} readOnly={readOnly} onChange={(text) => setVariant(i, { value: text })} error={jsonErrors[i] ?? at(`variants[${i}].value`)} />
                <Field label="Weight" inputMode="numeric" value={v.weight} readOnly={readOnly} onChange={(e) => setVariant(i, { weight: e.target.value })} hint="In the default split." error={at(`variants[${i}].weight`)} />
                {!readOnly && (
                  <button type="button" className="remove" onClick={() => edit({ variants: value.variants.filter((_, j) => j !== i) })}>
                    Remove variant {i + 1}
                  </button>
                )}
              </fieldset>
            );
          })}
          {!readOnly && (
            <div className="actions actions-start">
              <button type="button" onClick={() => edit({ variants: [...value.variants, { key: '', value: '', weight: '1' }] })}>
                Add variant
              </button>
            </div>
          )}
          {at('variants') && !value.variants.some((_, i) => at(`variants[${i}]`)) && <p className="field-error">{at('variants')}</p>}
        </div>
        {Object.keys(jsonErrors).length > 0 && (
          <p role="alert" className="field-error">
            Not saved: a variant&apos;s value is not valid JSON.
          </p>
        )}
        <ErrorNotice error={shown ?? (conflict || badRequest ? null : save.error)} />
        {badRequest && !shown && (
          <p role="alert" className="field-error">
            {badRequest.message} See the fields marked above.
          </p>
        )}
        {conflict && (
          <ConflictNotice
            message={save.error!.message}
            what="Someone else changed this flag's definition while you were editing."
            stored={definitionText(definition)}
            onReapply={() => submit(definition.etag)}
            onDiscard={() => {
              setDraft(null);
              setJsonErrors({});
              save.reset();
            }}
          />
        )}
        {save.isSuccess && draft === null && <Notice>Definition saved.</Notice>}
        {!readOnly && (
          <div className="actions">
            <button type="submit" className="primary" disabled={!dirty || save.isPending}>
              Save definition
            </button>
          </div>
        )}
      </form>
    </section>
  );
}

function JsonField({ id, value, readOnly, onChange, error }: { id: string; value: string; readOnly: boolean; onChange: (text: string) => void; error?: string }) {
  const described = [`${id}-hint`, error ? `${id}-error` : ''].filter(Boolean).join(' ');
  return (
    <div className="field">
      <label htmlFor={id}>Value (JSON)</label>
      <textarea id={id} rows={Math.min(6, Math.max(1, value.split('\n').length))} value={value} readOnly={readOnly} spellCheck={false} onChange={(e) => onChange(e.target.value)} aria-invalid={error ? true : undefined} aria-describedby={described} />
      <small id={`${id}-hint`} className="hint">
        Any JSON: {'{"color": "#00f"}'}, &quot;blue&quot;, 42; empty for none.
      </small>
      {error && (
        <small id={`${id}-error`} className="field-error">
          {error}
        </small>
      )}
    </div>
  );
}
