import { useId, useState } from 'react';
import { Labelled } from '../../components/Field';
import { ConditionBuilder } from '../../components/ConditionBuilder';
import { fieldErrorUnder, type Schemas } from '../../lib/api';

export type Rule = Schemas['RuleDto'];
type Variant = Schemas['VariantDto'];
type Serve = 'default' | 'variant' | 'split';
type Rollout = NonNullable<Rule['rollout']>;
/** `bucketBy` has a default ("key"), so the generated type calls it required; the API takes it omitted. */
const rolloutOf = (r: Omit<Rollout, 'bucketBy'> & { bucketBy?: string }) => r as Rollout;

interface RuleBuilderProps {
  rules: Rule[];
  onChange: (rules: Rule[]) => void;
  variants: Variant[];
  cohorts: string[];
  readOnly: boolean;
  /** The failed save's 400, whose field paths (`rules[0].conditions[1].values`) are shown at their inputs. */
  error?: unknown;
}

/** The rules as cards: conditions and cohorts, rollout percentage, and what a match serves. */
export function RuleBuilder({ rules, onChange, variants, cohorts, readOnly, error }: RuleBuilderProps) {
  const set = (i: number, rule: Rule) => onChange(rules.map((r, j) => (j === i ? rule : r)));
  const move = (i: number, by: number) => {
    const next = [...rules];
    [next[i], next[i + by]] = [next[i + by], next[i]];
    onChange(next);
  };
  const add = () => {
    const ids = new Set(rules.map((r) => r.id));
    let n = rules.length + 1;
    while (ids.has(`rule-${n}`)) n++;
    onChange([...rules, { id: `rule-${n}`, conditions: [], rollout: rolloutOf({ percentage: 100 }) }]);
  };
  return (
    <div className="stack">
      {rules.length === 0 && <p className="muted">No rules: the flag is on for everyone while it is on.</p>}
      {rules.map((rule, i) => (
        <RuleCard
          key={i}
          index={i}
          count={rules.length}
          rule={rule}
          variants={variants}
          cohorts={cohorts}
          readOnly={readOnly}
          onChange={(next) => set(i, next)}
          onMove={(by) => move(i, by)}
          onRemove={() => onChange(rules.filter((_, j) => j !== i))}
          errorAt={(path) => fieldErrorUnder(error, `rules[${i}]${path ? `.${path}` : ''}`)}
        />
      ))}
      {!readOnly && (
        <div className="actions actions-start">
          <button type="button" onClick={add}>
            Add rule
          </button>
        </div>
      )}
    </div>
  );
}

interface RuleCardProps {
  index: number;
  count: number;
  rule: Rule;
  variants: Variant[];
  cohorts: string[];
  readOnly: boolean;
  onChange: (rule: Rule) => void;
  onMove: (by: number) => void;
  onRemove: () => void;
  errorAt: (path: string) => string | undefined;
}

function RuleCard({ index, count, rule, variants, cohorts, readOnly, onChange, onMove, onRemove, errorAt }: RuleCardProps) {
  const id = useId();
  const name = `Rule ${index + 1}`;
  const serve: Serve = rule.variant !== undefined ? 'variant' : rule.split !== undefined ? 'split' : 'default';
  const setServe = (next: Serve) => {
    const { variant: _variant, split: _split, ...rest } = rule;
    if (next === 'variant') onChange({ ...rest, variant: variants[0]?.key ?? '' });
    else if (next === 'split') onChange({ ...rest, split: variants.map((v) => ({ variant: v.key, weight: v.weight ?? 1 })) });
    else onChange(rest);
  };
  const setRollout = (patch: Partial<Rollout>) => {
    const rollout: Omit<Rollout, 'bucketBy'> & { bucketBy?: string } = { percentage: 100, ...rule.rollout, ...patch };
    if (rollout.bucketBy === '') delete rollout.bucketBy;
    onChange({ ...rule, rollout: rolloutOf(rollout) });
  };
  const weightOf = (key: string) => rule.split?.find((s) => s.variant === key)?.weight ?? 0;
  const setWeight = (key: string, weight: number) => {
    const others = (rule.split ?? []).filter((s) => s.variant !== key);
    const split = variants.map((v) => (v.key === key ? { variant: key, weight } : (others.find((s) => s.variant === v.key) ?? { variant: v.key, weight: 0 })));
    onChange({ ...rule, split });
  };
  const ruleError = errorAt('');
  return (
    <fieldset className="rule" data-rule={rule.id}>
      <legend>
        {name} <code>{rule.id}</code>
      </legend>
      <div className="inline-form">
        <TextInput id={`${id}-id`} label="Rule ID" value={rule.id} readOnly={readOnly} onChange={(v) => onChange({ ...rule, id: v })} error={errorAt('id')} />
        <PercentInput
          id={`${id}-pct`}
          label="Share of the matching audience (%)"
          value={rule.rollout?.percentage ?? 100}
          readOnly={readOnly}
          onChange={(percentage) => setRollout({ percentage })}
          error={errorAt('rollout')}
        />
        <TextInput id={`${id}-bucket`} label="Bucket by" value={rule.rollout?.bucketBy ?? ''} placeholder="key" readOnly={readOnly} onChange={(bucketBy) => setRollout({ bucketBy })} />
      </div>
      <ConditionBuilder
        label={name}
        conditions={rule.conditions ?? []}
        onChange={(conditions) => onChange({ ...rule, conditions })}
        cohorts={{ selected: rule.cohorts ?? [], options: cohorts, onChange: (selected) => onChange({ ...rule, cohorts: selected }) }}
        readOnly={readOnly}
        errorAt={errorAt}
      />
      <div className="inline-form">
        <div className="field">
          <label htmlFor={`${id}-serve`}>Serves</label>
          <select id={`${id}-serve`} value={serve} disabled={readOnly} onChange={(e) => setServe(e.target.value as Serve)}>
            <option value="default">the flag&apos;s variant split</option>
            <option value="variant" disabled={variants.length === 0}>
              one variant
            </option>
            <option value="split" disabled={variants.length === 0}>
              a split of its own
            </option>
          </select>
        </div>
        {serve === 'variant' && (
          <div className="field">
            <label htmlFor={`${id}-variant`}>Variant</label>
            <select
              id={`${id}-variant`}
              value={rule.variant}
              disabled={readOnly}
              onChange={(e) => onChange({ ...rule, variant: e.target.value })}
              aria-invalid={errorAt('variant') ? true : undefined}
              aria-describedby={errorAt('variant') ? `${id}-variant-error` : undefined}
            >
              {!variants.some((v) => v.key === rule.variant) && <option value={rule.variant}>{rule.variant || 'Choose a variant'}</option>}
              {variants.map((v) => (
                <option key={v.key} value={v.key}>
                  {v.key}
                </option>
              ))}
            </select>
            {errorAt('variant') && (
              <small id={`${id}-variant-error`} className="field-error">
                {errorAt('variant')}
              </small>
            )}
          </div>
        )}
        {serve === 'split' &&
          variants.map((v) => (
            <PercentInput key={v.key} id={`${id}-w-${v.key}`} label={`Weight of ${v.key}`} value={weightOf(v.key)} readOnly={readOnly} onChange={(w) => setWeight(v.key, w)} error={errorAt('split')} />
          ))}
      </div>
      {ruleError && !['id', 'rollout', 'variant', 'split', 'conditions', 'cohorts'].some((p) => errorAt(p)) && <p className="field-error">{ruleError}</p>}
      {!readOnly && (
        <div className="actions actions-start">
          <button type="button" disabled={index === 0} onClick={() => onMove(-1)} aria-label={`Move up: ${name.toLowerCase()}`}>
            Move up
          </button>
          <button type="button" disabled={index === count - 1} onClick={() => onMove(1)} aria-label={`Move down: ${name.toLowerCase()}`}>
            Move down
          </button>
          <button type="button" onClick={onRemove}>
            Remove {name.toLowerCase()}
          </button>
        </div>
      )}
    </fieldset>
  );
}


function TextInput(props: { id: string; label: string; value: string; placeholder?: string; readOnly: boolean; onChange: (v: string) => void; error?: string }) {
  const { id, label, value, placeholder, readOnly, onChange, error } = props;
  return (
    <Labelled id={id} label={label} error={error}>
      <input id={id} value={value} placeholder={placeholder} readOnly={readOnly} onChange={(e) => onChange(e.target.value)} aria-invalid={error ? true : undefined} aria-describedby={error ? `${id}-error` : undefined} />
    </Labelled>
  );
}

/** A number typed as text ("12." stays while typing); the rule gets the number, or the text when it is none. */
function PercentInput(props: { id: string; label: string; value: unknown; readOnly: boolean; onChange: (v: number) => void; error?: string }) {
  const { id, label, value, readOnly, onChange, error } = props;
  const [text, setText] = useState(String(value));
  const meaning = text.trim() !== '' && Number.isFinite(Number(text)) ? Number(text) : text;
  // A change from outside (the JSON, a reload) replaces the text; "12." stays while typing.
  if (meaning !== value && String(value) !== text) setText(String(value));
  const bad = text.trim() === '' || !Number.isFinite(Number(text));
  const problem = bad ? 'Enter a number.' : error;
  return (
    <Labelled id={id} label={label} error={problem}>
      <input
        id={id}
        value={text}
        inputMode="decimal"
        readOnly={readOnly}
        onChange={(e) => {
          setText(e.target.value);
          const n = Number(e.target.value);
          onChange(e.target.value.trim() !== '' && Number.isFinite(n) ? n : (e.target.value as unknown as number));
        }}
        aria-invalid={problem ? true : undefined}
        aria-describedby={problem ? `${id}-error` : undefined}
      />
    </Labelled>
  );
}
