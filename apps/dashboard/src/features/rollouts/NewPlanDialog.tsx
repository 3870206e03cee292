import { useId, useState, type FormEvent } from 'react';
import { Dialog } from '../../components/Dialog';
import { Field } from '../../components/Field';
import { ErrorNotice } from '../../components/Notice';
import { fieldError } from '../../lib/api';
import { navigate } from '../../lib/router';
import { useCreatePlan, type NewPlan } from './api';
import { TEMPLATES, type Template, type TemplateKey } from './templates';

interface Props {
  env: string;
  flagKey: string;
  /** The flag's rules in this environment: a plan moves one rule's percentage. */
  ruleIds: readonly string[];
  onClose: () => void;
}

interface Draft {
  template: TemplateKey;
  ruleId: string;
  steps: Array<{ percentage: string; holdSeconds: string }>;
  guarded: boolean;
  guard: { numerator: string; denominator: string; maxRelativeIncrease: string; minSamples: string; falseAlarmRate: string; browsers: boolean };
  requireApproval: boolean;
  start: boolean;
  reason: string;
}

const NO_GUARD = { numerator: 'error', denominator: 'request', maxRelativeIncrease: '0.2', minSamples: '500', falseAlarmRate: '0.01', browsers: true };

/** A template fills in everything but the rule, the start and the reason. */
function fromTemplate(template: Template, keep: Pick<Draft, 'ruleId' | 'start' | 'reason'>): Draft {
  const { steps, guard, requireApproval } = template.plan;
  return {
    ...keep,
    template: template.key,
    steps: steps.map((s) => ({ percentage: String(s.percentage), holdSeconds: String(s.holdSeconds) })),
    guarded: guard !== undefined,
    guard: guard
      ? {
          numerator: guard.numerator ?? '',
          denominator: guard.denominator ?? '',
          maxRelativeIncrease: String(guard.maxRelativeIncrease),
          minSamples: String(guard.minSamples),
          falseAlarmRate: String(guard.falseAlarmRate ?? 0.01),
          browsers: guard.sources.includes('client'),
        }
      : NO_GUARD,
    requireApproval: requireApproval ?? false,
  };
}

/** Numbers go to the server as typed: it names the field of anything it refuses. */
const num = (text: string) => (text.trim() === '' ? Number.NaN : Number(text));

function toBody(draft: Draft): NewPlan {
  return {
    ruleId: draft.ruleId,
    steps: draft.steps.map((s) => ({ percentage: num(s.percentage), holdSeconds: num(s.holdSeconds) })),
    ...(draft.guarded
      ? {
          guard: {
            numerator: draft.guard.numerator.trim(),
            denominator: draft.guard.denominator.trim(),
            maxRelativeIncrease: num(draft.guard.maxRelativeIncrease),
            minSamples: num(draft.guard.minSamples),
            falseAlarmRate: num(draft.guard.falseAlarmRate),
            sources: draft.guard.browsers ? ['server', 'client'] : ['server'],
          },
        }
      : {}),
    requireApproval: draft.requireApproval,
    onInsufficientData: 'pause',
    start: draft.start,
    ...(draft.reason.trim() ? { reason: draft.reason.trim() } : {}),
  };
}

/** Create a rollout plan from a template (docs/rollouts.md), edited before it is created. */
export function NewPlanDialog({ env, flagKey, ruleIds, onClose }: Props) {
  const create = useCreatePlan();
  const [draft, setDraft] = useState<Draft>(() => fromTemplate(TEMPLATES[0], { ruleId: ruleIds[0] ?? '', start: true, reason: '' }));
  const ids = useId();
  const error = (path: string) => fieldError(create.error, path);
  const setStep = (i: number, field: 'percentage' | 'holdSeconds', value: string) =>
    setDraft({ ...draft, steps: draft.steps.map((s, j) => (j === i ? { ...s, [field]: value } : s)) });
  const setGuard = (field: Exclude<keyof Draft['guard'], 'browsers'>, value: string) => setDraft({ ...draft, guard: { ...draft.guard, [field]: value } });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    create.mutate(
      { env, flag: flagKey, body: toBody(draft) },
      { onSuccess: (plan) => navigate(`/rollouts/${encodeURIComponent(plan.id)}?env=${encodeURIComponent(plan.environment)}`) },
    );
  };
  return (
    <Dialog title={`New rollout plan for ${flagKey}`} open onClose={onClose}>
      <form onSubmit={submit} className="stack" noValidate>
        <fieldset className="templates">
          <legend>Template</legend>
          {TEMPLATES.map((t) => (
            <div key={t.key} className="template">
              <input
                type="radio"
                id={`${ids}-${t.key}`}
                name="template"
                checked={draft.template === t.key}
                onChange={() => setDraft(fromTemplate(t, draft))}
                aria-describedby={`${ids}-${t.key}-about`}
              />
              <label htmlFor={`${ids}-${t.key}`}>{t.name}</label>
              <small id={`${ids}-${t.key}-about`} className="hint">
                {t.description}
              </small>
            </div>
          ))}
        </fieldset>
        <div className="field">
          <label htmlFor={`${ids}-rule`}>Rule</label>
          <select id={`${ids}-rule`} value={draft.ruleId} onChange={(e) => setDraft({ ...draft, ruleId: e.target.value })} aria-describedby={error('ruleId') ? `${ids}-rule-error` : undefined}>
            {ruleIds.map((id) => (
              <option key={id} value={id}>
                {id}
              </option>
            ))}
          </select>
          {error('ruleId') && (
            <small id={`${ids}-rule-error`} className="field-error">
              {error('ruleId')}
            </small>
          )}
        </div>
        <fieldset className="steps">
          <legend>Steps</legend>
          <ol>
            {draft.steps.map((step, i) => (
              <li key={i} className="step-row">
                <Field label={`Step ${i + 1} percentage`} type="number" inputMode="decimal" min={0} max={100} step="any" value={step.percentage} onChange={(e) => setStep(i, 'percentage', e.target.value)} error={error(`steps[${i}].percentage`)} />
                <Field label={`Step ${i + 1} hold (seconds)`} type="number" inputMode="decimal" min={0} step="any" value={step.holdSeconds} onChange={(e) => setStep(i, 'holdSeconds', e.target.value)} error={error(`steps[${i}].holdSeconds`)} />
                {draft.steps.length > 1 && (
                  <button type="button" onClick={() => setDraft({ ...draft, steps: draft.steps.filter((_, j) => j !== i) })}>
                    Remove step {i + 1}
                  </button>
                )}
              </li>
            ))}
          </ol>
          <button type="button" onClick={() => setDraft({ ...draft, steps: [...draft.steps, { percentage: '100', holdSeconds: '0' }] })}>
            Add step
          </button>
        </fieldset>
        <div className="field checkbox">
          <input id={`${ids}-guarded`} type="checkbox" checked={draft.guarded} onChange={(e) => setDraft({ ...draft, guarded: e.target.checked })} />
          <label htmlFor={`${ids}-guarded`}>Guard: roll back when the exposed users do worse</label>
        </div>
        {draft.guarded && (
          <fieldset className="guard-fields">
            <legend>Guard</legend>
            <Field label="Numerator event" value={draft.guard.numerator} onChange={(e) => setGuard('numerator', e.target.value)} hint="A tracked event, e.g. error." error={error('guard.numerator')} />
            <Field label="Denominator event" value={draft.guard.denominator} onChange={(e) => setGuard('denominator', e.target.value)} hint="e.g. request." error={error('guard.denominator')} />
            <Field label="Max relative increase" type="number" inputMode="decimal" step="any" min={0} value={draft.guard.maxRelativeIncrease} onChange={(e) => setGuard('maxRelativeIncrease', e.target.value)} hint="0.2: exposed may be at most 1.2 × control." error={error('guard.maxRelativeIncrease')} />
            <Field label="Min samples" type="number" inputMode="numeric" min={1} value={draft.guard.minSamples} onChange={(e) => setGuard('minSamples', e.target.value)} hint="Denominator events each arm needs before the guard decides." error={error('guard.minSamples')} />
            <Field label="False-alarm rate" type="number" inputMode="decimal" step="any" min={0} max={0.5} value={draft.guard.falseAlarmRate} onChange={(e) => setGuard('falseAlarmRate', e.target.value)} error={error('guard.falseAlarmRate')} />
            <div className="field checkbox">
              <input id={`${ids}-browsers`} type="checkbox" checked={draft.guard.browsers} onChange={(e) => setDraft({ ...draft, guard: { ...draft.guard, browsers: e.target.checked } })} />
              <label htmlFor={`${ids}-browsers`}>Also count browsers' reports (client keys are public: anyone can report with one)</label>
            </div>
          </fieldset>
        )}
        <div className="field checkbox">
          <input id={`${ids}-approval`} type="checkbox" checked={draft.requireApproval} onChange={(e) => setDraft({ ...draft, requireApproval: e.target.checked })} />
          <label htmlFor={`${ids}-approval`}>Wait for approval before each widening</label>
        </div>
        <div className="field checkbox">
          <input id={`${ids}-start`} type="checkbox" checked={draft.start} onChange={(e) => setDraft({ ...draft, start: e.target.checked })} />
          <label htmlFor={`${ids}-start`}>Start at once (the first step is written now)</label>
        </div>
        <Field label="Reason" value={draft.reason} onChange={(e) => setDraft({ ...draft, reason: e.target.value })} hint="Optional; kept in the plan's history and the audit log." error={error('reason')} />
        <ErrorNotice error={create.error} />
        <div className="actions">
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="primary" disabled={create.isPending || ruleIds.length === 0}>
            Create plan
          </button>
        </div>
      </form>
    </Dialog>
  );
}
