import { useState, type FormEvent, type ReactNode } from 'react';
import { Field } from '../../components/Field';
import { ErrorNotice, Notice } from '../../components/Notice';
import { ApiError, fieldErrorUnder, type Schemas } from '../../lib/api';
import type { Permissions } from '../../lib/permissions';
import { onLinkClick } from '../../lib/router';
import { when } from '../../lib/time';
import { useFlagConfig, useFlagDefinition, useSaveConfig, useSetRollout, type FlagConfig } from './api';
import { ConflictNotice } from './ConflictNotice';
import { DefinitionEditor } from './DefinitionEditor';
import { EnvironmentSettings } from './EnvironmentSettings';
import { RuleBuilder, type Rule } from './RuleBuilder';
import { SwitchDialog, type SwitchTarget } from './SwitchDialog';

interface Props {
  env: string;
  flagKey: string;
  production: boolean;
  can: Permissions;
  /** What other features show about the flag in this environment (the app passes its rollout plans). */
  extra?: (config: FlagConfig) => ReactNode;
  /** Cohort keys for the rules' cohort conditions. */
  cohorts: string[];
}


/** One flag in the selected environment: its state, the canary dial and its rules. */
export function FlagDetail({ env, flagKey, production, can, extra, cohorts }: Props) {
  const config = useFlagConfig(env, flagKey);
  const definition = useFlagDefinition(flagKey);
  const [target, setTarget] = useState<SwitchTarget | null>(null);
  return (
    <main className="page">
      <p>
        <a href={`/?env=${encodeURIComponent(env)}`} onClick={onLinkClick}>
          ← All flags
        </a>
      </p>
      <h1>{flagKey}</h1>
      <ErrorNotice error={config.error} />
      {config.isPending && <p role="status">Loading…</p>}
      {config.data && (
        <>
          <section className="card" aria-labelledby="state-heading">
            <h2 id="state-heading">State in {env}</h2>
            <p>
              <span className={`state ${config.data.enabled ? 'state-on' : 'state-off'}`}>{config.data.enabled ? 'On' : 'Off'}</span>{' '}
              <span className="muted">
                version {config.data.version}
                {config.data.updatedAt && <>, changed {when(config.data.updatedAt)}</>}
              </span>
            </p>
            {config.data.enabled && can.kill && (
              <button type="button" className="danger" onClick={() => setTarget({ action: 'kill', env, key: flagKey, production })}>
                Kill
              </button>
            )}
            {!config.data.enabled && can.change && (
              <button type="button" onClick={() => setTarget({ action: 'revive', env, key: flagKey, production })}>
                Revive
              </button>
            )}
          </section>
          <RolloutDial env={env} flagKey={flagKey} config={config.data} can={can} />
          {extra?.(config.data)}
          <RulesEditor env={env} flagKey={flagKey} config={config.data} can={can} variants={definition.data?.variants ?? []} cohorts={cohorts} />
          <EnvironmentSettings env={env} flagKey={flagKey} config={config.data} can={can} />
        </>
      )}
      <ErrorNotice error={definition.error} />
      {definition.data && <DefinitionEditor definition={definition.data} can={can} />}
      <SwitchDialog target={target} onClose={() => setTarget(null)} />
    </main>
  );
}

function currentPercentage(config: FlagConfig): number | null {
  if (config.rules.length !== 1) return null;
  return config.rules[0].rollout?.percentage ?? 100;
}

/** The one-call canary dial (PUT …/rollout with If-Match). */
function RolloutDial({ env, flagKey, config, can }: { env: string; flagKey: string; config: FlagConfig; can: Permissions }) {
  const dial = useSetRollout();
  const [value, setValue] = useState(() => String(currentPercentage(config) ?? ''));
  const dialable = config.rules.length <= 1;
  const submit = (event: FormEvent) => {
    event.preventDefault();
    dial.mutate({ env, key: flagKey, version: config.version, percentage: Number(value) });
  };
  return (
    <section className="card" aria-labelledby="rollout-heading">
      <h2 id="rollout-heading">Rollout</h2>
      <p>
        {config.rules.length === 0
          ? 'No rules: on for everyone while the flag is on.'
          : config.rules.length === 1
            ? `The only rule serves ${currentPercentage(config)} % of its audience.`
            : `${config.rules.length} rules; dial each in the rules below.`}
      </p>
      {can.change && dialable && (
        <form onSubmit={submit} className="inline-form" noValidate>
          <Field
            label="Rollout percentage"
            type="number"
            inputMode="decimal"
            min={0}
            max={100}
            step="any"
            value={value}
            onChange={(e) => setValue(e.target.value)}
            error={fieldErrorUnder(dial.error, 'percentage')}
          />
          <button type="submit" className="primary" disabled={dial.isPending}>
            Set rollout
          </button>
        </form>
      )}
      {dial.isSuccess && <Notice>Rollout set to {dial.data.rules[0]?.rollout?.percentage ?? 100} %.</Notice>}
      {dial.error instanceof ApiError && dial.error.status !== 400 && <ErrorNotice error={dial.error} />}
    </section>
  );
}

interface RulesEditorProps {
  env: string;
  flagKey: string;
  config: FlagConfig;
  can: Permissions;
  variants: Schemas['VariantDto'][];
  cohorts: string[];
}

/** The draft's rules when its JSON is an array, else null (the builder then waits for the JSON to parse). */
function parseRules(text: string): Rule[] | null {
  try {
    const rules: unknown = JSON.parse(text);
    return Array.isArray(rules) && rules.every((r) => typeof r === 'object' && r !== null && !Array.isArray(r)) ? (rules as Rule[]) : null;
  } catch {
    return null;
  }
}

/**
 * The rules, edited with the builder or as JSON (two views of one draft), saved with If-Match. A
 * 412 shows what is stored now (someone else's change) next to yours, and offers to re-apply yours
 * on top; a 400 names the fields, at the builder's inputs and in the list under the JSON.
 */
function RulesEditor({ env, flagKey, config, can, variants, cohorts }: RulesEditorProps) {
  const save = useSaveConfig();
  const stored = JSON.stringify(config.rules, null, 2);
  // Null while nothing is edited: the editor then follows what is stored (other people's saves arrive live).
  const [draft, setDraft] = useState<{ text: string; base: number } | null>(null);
  const [parseError, setParseError] = useState<string | null>(null);
  const text = draft?.text ?? stored;
  const dirty = draft !== null && draft.text !== stored;
  const conflict = save.error instanceof ApiError && save.error.status === 412;
  const submit = (version: number) => {
    let rules;
    try {
      rules = JSON.parse(text);
    } catch (error) {
      setParseError(`The rules are not valid JSON: ${(error as Error).message}`);
      return;
    }
    setParseError(null);
    save.mutate(
      { env, key: flagKey, version, rules },
      {
        onSuccess: () => setDraft(null),
      },
    );
  };
  const rulesError = save.error instanceof ApiError && save.error.status === 400 ? save.error : undefined;
  const parsed = parseRules(text);
  const [showJson, setShowJson] = useState(true);
  return (
    <section className="card" aria-labelledby="rules-heading">
      <h2 id="rules-heading">Rules</h2>
      <form
        className="stack"
        onSubmit={(e) => {
          e.preventDefault();
          submit(draft?.base ?? config.version);
        }}
      >
        {parsed ? (
          <RuleBuilder
            rules={parsed}
            onChange={(rules) => setDraft({ text: JSON.stringify(rules, null, 2), base: draft?.base ?? config.version })}
            variants={variants}
            cohorts={cohorts}
            readOnly={!can.change}
            error={rulesError}
          />
        ) : (
          <p className="notice notice-warning">The JSON below is not a list of rules yet; the builder returns once it is.</p>
        )}
        <div className="field checkbox">
          <input id="rules-show-json" type="checkbox" checked={showJson} onChange={(e) => setShowJson(e.target.checked)} />
          <label htmlFor="rules-show-json">Show the rules as JSON</label>
        </div>
        {showJson && (
        <div className="field">
          <label htmlFor="rules-json">Rules (JSON)</label>
          <textarea
            id="rules-json"
            rows={Math.min(20, Math.max(4, text.split('\n').length))}
            value={text}
            readOnly={!can.change}
            onChange={(e) => setDraft({ text: e.target.value, base: draft?.base ?? config.version })}
            aria-invalid={rulesError || parseError ? true : undefined}
            aria-describedby={rulesError || parseError ? 'rules-errors' : undefined}
            spellCheck={false}
          />
          {(rulesError || parseError) && (
            <div id="rules-errors" className="field-error" role="alert">
              {parseError ?? rulesError!.message}
              {rulesError && rulesError.fields.length > 0 && (
                <ul>
                  {rulesError.fields.map((f) => (
                    <li key={f.path}>
                      <code>{f.path}</code>: {f.message}
                    </li>
                  ))}
                </ul>
              )}
            </div>
          )}
        </div>
        )}
        {!showJson && (rulesError || parseError) && (
          <div className="field-error" role="alert">
            {parseError ?? rulesError!.message}
          </div>
        )}
        {conflict && (
          <ConflictNotice
            message={save.error!.message}
            what={`Someone else saved this flag while you were editing (version ${config.version}).`}
            stored={stored}
            onReapply={() => submit(config.version)}
            onDiscard={() => {
              setDraft(null);
              save.reset();
            }}
          />
        )}
        {save.error instanceof ApiError && save.error.status !== 400 && save.error.status !== 412 && <ErrorNotice error={save.error} />}
        {save.isSuccess && draft === null && <Notice>Rules saved (version {save.data.version}).</Notice>}
        {can.change && (
          <div className="actions">
            <button type="submit" className="primary" disabled={!dirty || save.isPending}>
              Save rules
            </button>
          </div>
        )}
      </form>
    </section>
  );
}
