import { useEffect, useState } from 'react';
import { Field } from '../../components/Field';
import { ErrorNotice } from '../../components/Notice';
import type { Schemas } from '../../lib/api';
import type { Permissions } from '../../lib/permissions';
import { navigate, onLinkClick } from '../../lib/router';
import { when } from '../../lib/time';
import { isActive, usePlan, usePlanAction, usePlanMetrics, type Plan, type PlanAction, type PlanState } from './api';
import { RatioChart } from './RatioChart';

type Look = Schemas['GuardLookView'];
type Arm = Look['exposed'];

const STATE_TEXT: Record<PlanState, string> = {
  pending: 'Pending: not started',
  running: 'Running',
  paused: 'Paused',
  'awaiting-approval': 'Waiting for approval',
  completed: 'Completed',
  'rolled-back': 'Rolled back',
  cancelled: 'Cancelled',
};

/** The buttons, in this order, for the actions the plan's state accepts (`plan.actions`, from the
 *  server) and the person may take: stopping is a kill (every editor), moving forward a change
 *  (editors of the environment). */
const BUTTONS: Array<{ action: PlanAction; label: string; needs: 'kill' | 'change'; tone?: string }> = [
  { action: 'start', label: 'Start', needs: 'change', tone: 'primary' },
  { action: 'approve', label: 'Approve next step', needs: 'change', tone: 'primary' },
  { action: 'resume', label: 'Resume', needs: 'change', tone: 'primary' },
  { action: 'pause', label: 'Pause', needs: 'kill' },
  { action: 'cancel', label: 'Cancel plan', needs: 'kill' },
  { action: 'rollback', label: 'Roll back', needs: 'kill', tone: 'danger' },
];

/** Now, every second while `on`: the countdown to the next step ticks. */
function useNow(on: boolean): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!on) return;
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [on]);
  return now;
}

function duration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  return `${Math.floor(s / 86_400)} d ${Math.floor((s % 86_400) / 3600)} h`;
}

/** One rollout plan, live (`/rollouts/:planId`): state, steps, the guard's verdict, the chart and the actions. */
export function PlanView({ id, env, can }: { id: string; env: string; can: Permissions }) {
  const plan = usePlan(id);
  const environment = plan.data?.environment;
  useEffect(() => {
    // The live stream and the permissions are the plan's environment's.
    if (environment && environment !== env) navigate(`/rollouts/${encodeURIComponent(id)}?env=${encodeURIComponent(environment)}`, { replace: true });
  }, [environment, env, id]);
  return (
    <main className="page">
      <p>
        <a href={`/rollouts?env=${encodeURIComponent(env)}`} onClick={onLinkClick}>
          ← All rollout plans
        </a>
      </p>
      <ErrorNotice error={plan.error} />
      {plan.isPending && <p role="status">Loading…</p>}
      {plan.data && <PlanDetail plan={plan.data} can={can} />}
    </main>
  );
}

function PlanDetail({ plan, can }: { plan: Plan; can: Permissions }) {
  const envQuery = `?env=${encodeURIComponent(plan.environment)}`;
  return (
    <>
      <h1>
        Rollout plan for <code>{plan.flag}</code>
      </h1>
      <p className="muted">
        In {plan.environment}, rule {plan.ruleId}; created by {plan.createdBy} {when(plan.createdAt)}.{' '}
        <a href={`/flags/${encodeURIComponent(plan.flag)}${envQuery}`} onClick={onLinkClick}>
          The flag {plan.flag}
        </a>
      </p>
      <section className="card" aria-labelledby="plan-state-heading">
        <h2 id="plan-state-heading">State</h2>
        <div aria-live="polite">
          <p>
            <span className={`state plan-${plan.state}`}>{STATE_TEXT[plan.state]}</span>
            {plan.stepIndex !== null && (
              <span className="muted">
                {' '}
                step {plan.stepIndex + 1} of {plan.steps.length}, {plan.steps[plan.stepIndex].percentage} %
              </span>
            )}
          </p>
          {plan.reason && (
            <p className={plan.state === 'rolled-back' ? 'notice notice-error' : 'notice notice-warning'}>
              <strong>{plan.state === 'rolled-back' ? 'Why it was rolled back: ' : 'Reason: '}</strong>
              {plan.reason}
            </p>
          )}
        </div>
        <NextStep plan={plan} />
        <PlanActions plan={plan} can={can} />
      </section>
      <Timeline plan={plan} />
      <Verdict plan={plan} />
      {plan.guard && <Chart plan={plan} />}
      {plan.warnings.length > 0 && (
        <section className="card" aria-labelledby="plan-warnings-heading">
          <h2 id="plan-warnings-heading">Warnings</h2>
          <ul>
            {plan.warnings.map((w, i) => (
              <li key={i}>
                <code>{w.code}</code> {w.stepIndex !== null && <>(step {w.stepIndex + 1}) </>}
                {w.message} <span className="muted">{when(w.at)}</span>
              </li>
            ))}
          </ul>
        </section>
      )}
      <History plan={plan} />
    </>
  );
}

function NextStep({ plan }: { plan: Plan }) {
  const now = useNow(plan.nextStepAt !== null);
  if (plan.state === 'awaiting-approval' && plan.stepIndex !== null) {
    return <p>Waits for someone to approve the next step, {plan.steps[plan.stepIndex + 1]?.percentage} %.</p>;
  }
  if (!plan.nextStepAt) return null;
  const left = (new Date(plan.nextStepAt).getTime() - now) / 1000;
  const last = plan.stepIndex === plan.steps.length - 1;
  const next = last ? 'The plan completes' : `Next step (${plan.steps[(plan.stepIndex ?? -1) + 1]?.percentage} %)`;
  const gated = plan.guard && !last ? ", once the guard has judged this step" : '';
  return (
    <p>
      {next} in <strong className="countdown">{left > 0 ? duration(left) : 'a moment'}</strong>
      {gated} <span className="muted">(due {when(plan.nextStepAt)})</span>
      {plan.evidenceDeadlineAt && plan.onInsufficientData === 'pause' && !last && (
        <span className="muted">. Without the guard's verdict by {when(plan.evidenceDeadlineAt)}, the plan pauses instead of widening.</span>
      )}
    </p>
  );
}

function PlanActions({ plan, can }: { plan: Plan; can: Permissions }) {
  const act = usePlanAction();
  const [reason, setReason] = useState('');
  const allowed = BUTTONS.filter((b) => plan.actions.includes(b.action) && can[b.needs]);
  if (allowed.length === 0) return null;
  return (
    <form className="plan-actions" onSubmit={(e) => e.preventDefault()}>
      <Field label="Reason for the action" value={reason} onChange={(e) => setReason(e.target.value)} hint="Optional; kept in the plan's history and the audit log." />
      <div className="actions">
        {allowed.map((a) => (
          <button
            key={a.action}
            type="button"
            className={a.tone}
            disabled={act.isPending}
            onClick={() => act.mutate({ id: plan.id, action: a.action, reason: reason.trim() || undefined }, { onSuccess: () => setReason('') })}
          >
            {a.label}
          </button>
        ))}
      </div>
      <ErrorNotice error={act.error} />
    </form>
  );
}

function Timeline({ plan }: { plan: Plan }) {
  const finished = !isActive(plan.state);
  return (
    <section className="card" aria-labelledby="plan-steps-heading">
      <h2 id="plan-steps-heading">Steps</h2>
      <ol className="timeline">
        {plan.steps.map((step, i) => {
          const index = plan.stepIndex ?? -1;
          const status = i < index || (i === index && plan.state === 'completed') ? 'done' : i === index ? (finished ? 'stopped' : 'current') : 'next';
          return (
            <li key={i} className={`step step-${status}`} aria-current={status === 'current' ? 'step' : undefined}>
              <span className="step-percentage">{step.percentage} %</span>
              <span className="muted">
                {step.holdSeconds > 0 ? `hold ${duration(step.holdSeconds)}` : 'no hold'}
                {step.maxHoldSeconds !== undefined && `, at most ${duration(step.maxHoldSeconds)}`}
              </span>
              <span className="step-status">{{ done: 'done', current: 'current', next: 'next', stopped: 'stopped here' }[status]}</span>
            </li>
          );
        })}
      </ol>
    </section>
  );
}

const ratio = (v: number | undefined) => (v === undefined ? '–' : `${(v * 100).toFixed(2)} %`);
const mean = (v: number | undefined) => (v === undefined ? '–' : v.toFixed(2));
const counts = (arm: Arm) => ('numerator' in arm ? `${arm.numerator} / ${arm.denominator}` : `n = ${arm.count}`);

function Verdict({ plan }: { plan: Plan }) {
  if (plan.guards.length === 0) {
    return (
      <section className="card" aria-labelledby="plan-guard-heading">
        <h2 id="plan-guard-heading">Guard</h2>
        <p>This plan has no guard: nothing rolls it back by itself.</p>
      </section>
    );
  }
  const looks: Look[] = plan.verdict ? (plan.verdict.guards ?? [{ ...plan.verdict, guard: plan.verdict.guard ?? '' }]) : [];
  return (
    <section className="card" aria-labelledby="plan-guard-heading">
      <h2 id="plan-guard-heading">Guard</h2>
      {plan.verdict ? (
        <p>
          Verdict: <strong>{plan.verdict.status === 'ok' ? 'OK' : plan.verdict.status === 'breach' ? 'Breach' : 'Not enough data yet'}</strong>{' '}
          <span className="muted">
            after {plan.verdict.looks} {plan.verdict.looks === 1 ? 'look' : 'looks'}, {when(plan.verdict.at)}
          </span>
        </p>
      ) : (
        <p>No look yet.</p>
      )}
      <div className="table-scroll">
        <table className="verdict">
          <caption className="visually-hidden">Each guard's last look</caption>
          <thead>
            <tr>
              <th scope="col">Guard</th>
              <th scope="col">Status</th>
              <th scope="col">Exposed</th>
              <th scope="col">Control</th>
              <th scope="col">Limit</th>
              <th scope="col">Statistic</th>
            </tr>
          </thead>
          <tbody>
            {plan.guards.map((guard, i) => {
              const look = looks[i];
              const isMean = guard.metric !== undefined;
              const show = isMean ? mean : ratio;
              const label = isMean ? `mean ${guard.metric}` : `${guard.numerator}/${guard.denominator}`;
              const control = isMean ? look?.controlMean : look?.controlRatio;
              const k = 1 + guard.maxRelativeIncrease;
              return (
                <tr key={i}>
                  <th scope="row">
                    <code>{label}</code>
                    <div className="muted">
                      at most {k} × control, {guard.minSamples} samples per arm, false-alarm rate {guard.falseAlarmRate ?? 0.01}
                    </div>
                  </th>
                  <td>{look ? look.status : 'no look yet'}</td>
                  <td>{look ? <>{show(isMean ? look.exposedMean : look.exposedRatio)} <span className="muted">({counts(look.exposed)})</span></> : '–'}</td>
                  <td>{look ? <>{show(control)} <span className="muted">({counts(look.control)})</span></> : '–'}</td>
                  <td>{control === undefined ? '–' : show(control * k)}</td>
                  <td>
                    {look ? (
                      <>
                        log LR {look.logLikelihoodRatio.toFixed(2)} of {look.threshold.toFixed(2)}; p = {look.pValue.toPrecision(2)}; z = {look.z.toFixed(2)}
                      </>
                    ) : (
                      '–'
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      <p className="hint">
        The guard breaches when the log likelihood ratio of its always-valid test (mSPRT) reaches the threshold, ln(1 / false-alarm rate), with
        the exposed users doing worse than the limit.
      </p>
    </section>
  );
}

function Chart({ plan }: { plan: Plan }) {
  const metrics = usePlanMetrics(plan);
  return (
    <section className="card" aria-labelledby="plan-chart-heading">
      <h2 id="plan-chart-heading">Exposed and control over time</h2>
      <ErrorNotice error={metrics.error} />
      {metrics.isPending && !plan.startedAt && <p className="muted">The chart starts when the plan does.</p>}
      {metrics.data && plan.guard && <RatioChart series={metrics.data} guard={plan.guard} />}
    </section>
  );
}

function History({ plan }: { plan: Plan }) {
  if (!plan.history || plan.history.length === 0) return null;
  return (
    <section className="card" aria-labelledby="plan-history-heading">
      <h2 id="plan-history-heading">History</h2>
      <ol className="audit">
        {[...plan.history].reverse().map((h, i) => (
          <li key={i} className="audit-entry">
            <strong>{h.type}</strong>
            {h.percentage !== null && <> to {h.percentage} %</>} <span className="muted">by {h.actor}, {when(h.at)}</span>
            {h.reason && <p className="reason">{h.reason}</p>}
          </li>
        ))}
      </ol>
    </section>
  );
}
