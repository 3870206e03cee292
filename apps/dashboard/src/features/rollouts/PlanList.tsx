import { useState } from 'react';
import { ErrorNotice } from '../../components/Notice';
import { TableHead } from '../../components/TableHead';
import type { Permissions } from '../../lib/permissions';
import { onLinkClick } from '../../lib/router';
import { when } from '../../lib/time';
import { isActive, useEnvironmentPlans, useFlagPlans, type Plan } from './api';
import { NewPlanDialog } from './NewPlanDialog';

function PlanTable({ plans, showFlag }: { plans: Plan[]; showFlag: boolean }) {
  return (
    <table className="flag-table">
      <TableHead columns={[...(showFlag ? ['Flag'] : []), 'Plan', 'State', 'Step', 'Created']} />
      <tbody>
        {plans.map((p) => (
          <tr key={p.id}>
            {showFlag && (
              <td className="flag-key">
                <a href={`/flags/${encodeURIComponent(p.flag)}?env=${encodeURIComponent(p.environment)}`} onClick={onLinkClick}>
                  {p.flag}
                </a>
              </td>
            )}
            <td>
              <a href={`/rollouts/${encodeURIComponent(p.id)}?env=${encodeURIComponent(p.environment)}`} onClick={onLinkClick}>
                {p.steps.map((s) => `${s.percentage} %`).join(' → ')}
              </a>
              {p.guard && <span className="muted"> guarded</span>}
            </td>
            <td>
              {p.state}
              {p.state === 'rolled-back' && p.reason && <div className="muted">{p.reason}</div>}
            </td>
            <td>{p.stepIndex === null ? '–' : `${p.stepIndex + 1} of ${p.steps.length}`}</td>
            <td>
              {when(p.createdAt)} <span className="muted">by {p.createdBy}</span>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** The flag page's rollout plans, newest first, and **New rollout plan** for those who may change the environment. */
export function FlagPlans({ env, flagKey, ruleIds, can }: { env: string; flagKey: string; ruleIds: readonly string[]; can: Permissions }) {
  const plans = useFlagPlans(env, flagKey);
  const [creating, setCreating] = useState(false);
  const items = plans.data?.items ?? [];
  const active = items.some((p) => isActive(p.state));
  return (
    <section className="card" aria-labelledby="plans-heading">
      <div className="page-head">
        <h2 id="plans-heading">Rollout plans</h2>
        {can.change && !active && ruleIds.length > 0 && (
          <button type="button" className="primary" onClick={() => setCreating(true)}>
            New rollout plan
          </button>
        )}
      </div>
      {can.change && ruleIds.length === 0 && <p className="muted">A plan moves a rule's percentage: add a rule first.</p>}
      {can.change && active && <p className="muted">One plan at a time: a new one can start once the active plan has finished or been cancelled.</p>}
      <ErrorNotice error={plans.error} />
      {plans.data && items.length === 0 && <p>No rollout plans for this flag in {env} yet.</p>}
      {items.length > 0 && <PlanTable plans={items} showFlag={false} />}
      {creating && <NewPlanDialog env={env} flagKey={flagKey} ruleIds={ruleIds} onClose={() => setCreating(false)} />}
    </section>
  );
}

/** `/rollouts`: every flag's plans in the environment, newest first. */
export function RolloutsPage({ env }: { env: string }) {
  const plans = useEnvironmentPlans(env);
  const items = plans.data?.items ?? [];
  return (
    <main className="page">
      <h1>Rollout plans</h1>
      <ErrorNotice error={plans.error} />
      {plans.isPending && <p role="status">Loading…</p>}
      {plans.data && items.length === 0 && <p>No rollout plans in {env} yet: create one from a flag's page.</p>}
      {items.length > 0 && <PlanTable plans={items} showFlag />}
      {plans.data?.nextCursor && <p className="muted">The newest 100 are shown.</p>}
    </main>
  );
}
