import { useId, useState } from 'react';
import { Labelled } from './Field';
import type { Schemas } from '../lib/api';

export type Condition = Schemas['ConditionDto'];
type Operator = Condition['operator'];
type Value = NonNullable<Condition['values']>[number];

type ValueKind = 'list' | 'regex' | 'number' | 'date' | 'semver' | 'cidr' | 'none';

/** Every operator of docs/evaluation.md, in its order, with what it asks for as a value. */
const OPERATORS = [
  { op: 'in', label: 'is one of', kind: 'list' },
  { op: 'notIn', label: 'is none of', kind: 'list' },
  { op: 'contains', label: 'contains one of', kind: 'list' },
  { op: 'startsWith', label: 'starts with one of', kind: 'list' },
  { op: 'endsWith', label: 'ends with one of', kind: 'list' },
  { op: 'matches', label: 'matches the regular expression', kind: 'regex' },
  { op: 'numEq', label: '= (number)', kind: 'number' },
  { op: 'numGt', label: '> (number)', kind: 'number' },
  { op: 'numGte', label: '≥ (number)', kind: 'number' },
  { op: 'numLt', label: '< (number)', kind: 'number' },
  { op: 'numLte', label: '≤ (number)', kind: 'number' },
  { op: 'before', label: 'is before (date)', kind: 'date' },
  { op: 'after', label: 'is after (date)', kind: 'date' },
  { op: 'semverEq', label: '= (SemVer)', kind: 'semver' },
  { op: 'semverGt', label: '> (SemVer)', kind: 'semver' },
  { op: 'semverGte', label: '≥ (SemVer)', kind: 'semver' },
  { op: 'semverLt', label: '< (SemVer)', kind: 'semver' },
  { op: 'semverLte', label: '≤ (SemVer)', kind: 'semver' },
  { op: 'inCidr', label: 'is in the CIDR blocks', kind: 'cidr' },
  { op: 'exists', label: 'exists', kind: 'none' },
] as const satisfies ReadonlyArray<{ op: Operator; label: string; kind: ValueKind }>;

// Fails to compile when the server gains an operator this list lacks.
type Missing = Exclude<Operator, (typeof OPERATORS)[number]['op']>;
const complete: Missing extends never ? true : Missing = true;
void complete;

/** The rule-only pseudo-operator: the context's key is in a cohort (the rule's `cohorts`). */
const IN_COHORT = 'inCohort';
const STRING_OPERATORS: ReadonlySet<string> = new Set(['in', 'notIn', 'contains', 'startsWith', 'endsWith', 'matches']);
const SEMVER = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;
const DATE = /^(-?\d+|\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?)$/;
const MAX_PATTERN = 256;

const kindOf = (op: string): ValueKind => OPERATORS.find((o) => o.op === op)?.kind ?? 'list';

export interface ConditionBuilderProps {
  /** Names the group and prefixes each condition's legend ("Rule 1, condition 2"). */
  label: string;
  conditions: Condition[];
  onChange: (conditions: Condition[]) => void;
  /** Rules only: cohort keys the context must be in, edited as "key is in cohort" rows. */
  cohorts?: { selected: string[]; options: string[]; onChange: (selected: string[]) => void };
  readOnly?: boolean;
  /** The API's message for a field path relative to this builder (`conditions[1].values`, `cohorts[0]`). */
  errorAt?: (path: string) => string | undefined;
}

/** Conditions as rows of attribute, operator and a value input fitting the operator; all must hold. */
export function ConditionBuilder({ label, conditions, onChange, cohorts, readOnly = false, errorAt = () => undefined }: ConditionBuilderProps) {
  // The row a keyboard user just created (added, or turned into the other kind): its first input takes the focus.
  const [focus, setFocus] = useState<{ kind: 'condition' | 'cohort'; index: number; field: 'attr' | 'op' } | null>(null);
  const set = (i: number, next: Condition) => onChange(conditions.map((c, j) => (j === i ? next : c)));
  const remove = (i: number) => onChange(conditions.filter((_, j) => j !== i));
  const addCohort = (field: 'attr' | 'op') => {
    if (!cohorts) return;
    setFocus({ kind: 'cohort', index: cohorts.selected.length, field });
    cohorts.onChange([...cohorts.selected, cohorts.options.find((o) => !cohorts.selected.includes(o)) ?? '']);
  };
  const toCohort = (i: number) => {
    remove(i);
    addCohort('op');
  };
  const total = conditions.length + (cohorts?.selected.length ?? 0);
  return (
    <div className="conditions" role="group" aria-label={`${label}: conditions`}>
      {total === 0 && <p className="muted">No conditions: everyone matches.</p>}
      {conditions.map((condition, i) => (
        <ConditionRow
          key={i}
          legend={`${label}, condition ${i + 1}`}
          condition={condition}
          readOnly={readOnly}
          withCohorts={cohorts !== undefined}
          onChange={(next) => set(i, next)}
          onCohort={() => toCohort(i)}
          onRemove={() => remove(i)}
          focus={focus?.kind === 'condition' && focus.index === i ? focus.field : undefined}
          error={(field) => errorAt(`conditions[${i}].${field}`)}
          rowError={errorAt(`conditions[${i}]`)}
        />
      ))}
      {cohorts?.selected.map((cohort, i) => (
        <CohortRow
          key={`cohort-${i}`}
          legend={`${label}, condition ${conditions.length + i + 1}`}
          cohort={cohort}
          options={cohorts.options}
          readOnly={readOnly}
          onChange={(next) => cohorts.onChange(cohorts.selected.map((c, j) => (j === i ? next : c)))}
          onOperator={(op) => {
            setFocus({ kind: 'condition', index: conditions.length, field: 'op' });
            cohorts.onChange(cohorts.selected.filter((_, j) => j !== i));
            onChange([...conditions, { attribute: 'key', operator: op, values: [] }]);
          }}
          focus={focus?.kind === 'cohort' && focus.index === i}
          onRemove={() => cohorts.onChange(cohorts.selected.filter((_, j) => j !== i))}
          error={errorAt(`cohorts[${i}]`)}
        />
      ))}
      {!readOnly && (
        <div className="actions actions-start">
          <button
            type="button"
            onClick={() => {
              setFocus({ kind: 'condition', index: conditions.length, field: 'attr' });
              onChange([...conditions, { attribute: '', operator: 'in', values: [] }]);
            }}
          >
            Add condition
          </button>
          {cohorts && (
            <button type="button" onClick={() => addCohort('op')}>
              Add cohort condition
            </button>
          )}
        </div>
      )}
    </div>
  );
}

interface RowProps {
  legend: string;
  condition: Condition;
  readOnly: boolean;
  withCohorts: boolean;
  onChange: (next: Condition) => void;
  onCohort: () => void;
  onRemove: () => void;
  error: (field: 'attribute' | 'operator' | 'values') => string | undefined;
  /** An error somewhere in this condition, shown on the row when no input of it is named. */
  rowError?: string;
  /** The input that takes the focus when the row appears. */
  focus?: 'attr' | 'op';
}

function ConditionRow({ legend, condition, readOnly, withCohorts, onChange, onCohort, onRemove, error, rowError, focus }: RowProps) {
  const id = useId();
  const kind = kindOf(condition.operator);
  const changeOperator = (op: string) => {
    if (op === IN_COHORT) return onCohort();
    const nextKind = kindOf(op);
    // Values that mean something to both operators stay; a list does not become a number.
    const values = nextKind === kind ? condition.values : [];
    const next: Condition = { ...condition, operator: op as Operator, values };
    if (!STRING_OPERATORS.has(op)) delete next.caseInsensitive;
    onChange(next);
  };
  return (
    <fieldset className="condition">
      <legend>{legend}</legend>
      <Labelled id={`${id}-attr`} label="Attribute" error={error('attribute')}>
        <input
          id={`${id}-attr`}
          autoFocus={focus === 'attr'}
          value={condition.attribute}
          readOnly={readOnly}
          required
          placeholder={kind === 'date' ? 'currentTime' : 'country'}
          onChange={(e) => onChange({ ...condition, attribute: e.target.value })}
          aria-invalid={error('attribute') ? true : undefined}
          aria-describedby={error('attribute') ? `${id}-attr-error` : undefined}
        />
      </Labelled>
      <Labelled id={`${id}-op`} label="Operator" error={error('operator')}>
        <select id={`${id}-op`} autoFocus={focus === 'op'} value={condition.operator} disabled={readOnly} onChange={(e) => changeOperator(e.target.value)}>
          {OPERATORS.map((o) => (
            <option key={o.op} value={o.op}>
              {o.label}
            </option>
          ))}
          {withCohorts && <option value={IN_COHORT}>is in cohort (key)</option>}
        </select>
      </Labelled>
      <ValueInput id={`${id}-values`} kind={kind} values={condition.values ?? []} readOnly={readOnly} onChange={(values) => onChange({ ...condition, values })} error={error('values')} />
      <div className="field checkbox">
        <input id={`${id}-negate`} type="checkbox" checked={condition.negate ?? false} disabled={readOnly} onChange={(e) => onChange(withFlag(condition, 'negate', e.target.checked))} />
        <label htmlFor={`${id}-negate`}>Negate</label>
      </div>
      {STRING_OPERATORS.has(condition.operator) && (
        <div className="field checkbox">
          <input
            id={`${id}-case`}
            type="checkbox"
            checked={condition.caseInsensitive ?? false}
            disabled={readOnly}
            onChange={(e) => onChange(withFlag(condition, 'caseInsensitive', e.target.checked))}
          />
          <label htmlFor={`${id}-case`}>Ignore case</label>
        </div>
      )}
      {!readOnly && (
        <button type="button" className="remove" onClick={onRemove} aria-label={`Remove ${legend.toLowerCase()}`}>
          Remove
        </button>
      )}
      {rowError && !error('attribute') && !error('operator') && !error('values') && <p className="field-error">{rowError}</p>}
    </fieldset>
  );
}

function withFlag(condition: Condition, flag: 'negate' | 'caseInsensitive', on: boolean): Condition {
  const next = { ...condition };
  if (on) next[flag] = true;
  else delete next[flag];
  return next;
}

function CohortRow(props: {
  legend: string;
  cohort: string;
  options: string[];
  readOnly: boolean;
  onChange: (cohort: string) => void;
  onOperator: (op: Operator) => void;
  onRemove: () => void;
  error?: string;
  focus?: boolean;
}) {
  const { legend, cohort, options, readOnly, onChange, onOperator, onRemove, error, focus } = props;
  const id = useId();
  const choices = options.includes(cohort) || cohort === '' ? options : [cohort, ...options];
  return (
    <fieldset className="condition">
      <legend>{legend}</legend>
      <Labelled id={`${id}-attr`} label="Attribute">
        <input id={`${id}-attr`} value="key" readOnly aria-describedby={`${id}-attr-hint`} />
        <small id={`${id}-attr-hint`} className="hint">
          Cohorts list context keys.
        </small>
      </Labelled>
      <Labelled id={`${id}-op`} label="Operator">
        <select id={`${id}-op`} autoFocus={focus} value={IN_COHORT} disabled={readOnly} onChange={(e) => onOperator(e.target.value as Operator)}>
          {OPERATORS.map((o) => (
            <option key={o.op} value={o.op}>
              {o.label}
            </option>
          ))}
          <option value={IN_COHORT}>is in cohort (key)</option>
        </select>
      </Labelled>
      <Labelled id={`${id}-cohort`} label="Cohort" error={error}>
        <select
          id={`${id}-cohort`}
          value={cohort}
          disabled={readOnly}
          required
          onChange={(e) => onChange(e.target.value)}
          aria-invalid={error ? true : undefined}
          aria-describedby={error ? `${id}-cohort-error` : undefined}
        >
          {cohort === '' && <option value="">Choose a cohort</option>}
          {choices.map((key) => (
            <option key={key} value={key}>
              {key}
            </option>
          ))}
        </select>
      </Labelled>
      {!readOnly && (
        <button type="button" className="remove" onClick={onRemove} aria-label={`Remove ${legend.toLowerCase()}`}>
          Remove
        </button>
      )}
    </fieldset>
  );
}


interface ValueInputProps {
  id: string;
  kind: ValueKind;
  values: Value[];
  readOnly: boolean;
  onChange: (values: Value[]) => void;
  error?: string;
}

/** The value input an operator needs; the text stays as typed, the condition gets parsed values. */
function ValueInput({ id, kind, values, readOnly, onChange, error: apiError }: ValueInputProps) {
  if (kind === 'none') return null;
  const many = kind === 'list' || kind === 'cidr';
  const format = (v: Value[]) => (many ? v.map(String).join('\n') : v.length > 0 ? String(v[0]) : '');
  const parse = (text: string): Value[] => {
    if (many) return text.split('\n').map((s) => s.trim()).filter((s) => s !== '');
    const trimmed = text.trim();
    if (trimmed === '') return [];
    if (kind === 'number' && Number.isFinite(Number(trimmed))) return [Number(trimmed)];
    return [kind === 'regex' ? text : trimmed];
  };
  const check = (text: string): string | undefined => {
    const t = text.trim();
    if (t === '') return undefined;
    if (kind === 'number' && !Number.isFinite(Number(t))) return 'Enter a number, such as 42 or 2.5.';
    if (kind === 'semver' && !SEMVER.test(t)) return 'Enter a strict SemVer version, such as 2.3.1 or 2.3.1-beta.1 (no "v").';
    if (kind === 'date' && !DATE.test(t)) return 'Enter an ISO-8601 instant, such as 2026-06-01T09:00 (UTC when no offset), or epoch milliseconds.';
    if (kind === 'regex' && text.length > MAX_PATTERN) return `A pattern has at most ${MAX_PATTERN} characters.`;
    return undefined;
  };
  const label = { list: 'Values (one per line)', cidr: 'CIDR blocks (one per line)', regex: 'Regular expression (RE2)', number: 'Number', date: 'Date (ISO-8601, UTC)', semver: 'Version (SemVer)' }[kind];
  return <DraftText id={id} label={label} multiline={many} value={values} format={format} parse={parse} check={check} readOnly={readOnly} onChange={onChange} error={apiError} />;
}

interface DraftTextProps {
  id: string;
  label: string;
  multiline: boolean;
  value: Value[];
  format: (v: Value[]) => string;
  parse: (text: string) => Value[];
  check: (text: string) => string | undefined;
  readOnly: boolean;
  onChange: (v: Value[]) => void;
  error?: string;
}

function DraftText({ id, label, multiline, value, format, parse, check, readOnly, onChange, error }: DraftTextProps) {
  const [text, setText] = useState(() => format(value));
  // A change from outside (the JSON editor, a reload) replaces the text; typing keeps it as typed.
  const formatted = format(value);
  if (JSON.stringify(parse(text)) !== JSON.stringify(parse(formatted))) setText(formatted);
  const problem = check(text) ?? error;
  const described = problem ? `${id}-error` : undefined;
  const common = {
    id,
    value: text,
    readOnly,
    'aria-invalid': problem ? true : undefined,
    'aria-describedby': described,
    onChange: (e: React.ChangeEvent<HTMLInputElement | HTMLTextAreaElement>) => {
      setText(e.target.value);
      onChange(parse(e.target.value));
    },
  } as const;
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {multiline ? <textarea rows={Math.min(6, Math.max(2, text.split('\n').length))} spellCheck={false} {...common} /> : <input spellCheck={false} inputMode={label === 'Number' ? 'decimal' : undefined} {...common} />}
      {problem && (
        <small id={`${id}-error`} className="field-error">
          {problem}
        </small>
      )}
    </div>
  );
}
