import type { AdminApi, CreatePlanBody, RolloutPlan } from '../../src/admin-api.js';
import { lookAt } from '../../src/guard.js';
import type { Arm, ArmCounts } from '../../src/router.js';

/**
 * Rollout plans played by the test instead of the server, over the real admin API's config
 * writes: steps on schedule, the guard from the router's counts, the kill as `enabled: false`.
 * It exercises everything around the plan API (processes, SDK streaming, router, load, sampling,
 * summary, report) where the server has no plans; the e2e test uses the real ones.
 */
export function withEmulatedPlans(admin: AdminApi, counts: () => Record<Arm, ArmCounts> | undefined): AdminApi & { stop(): void } {
  const plans = new Map<string, RolloutPlan>();
  const timers = new Set<NodeJS.Timeout>();

  async function drive(plan: RolloutPlan, body: CreatePlanBody, start: Record<Arm, ArmCounts>): Promise<void> {
    const now = Date.now();
    const step = plan.steps[plan.stepIndex]!;
    const current = counts() ?? start;
    if (body.guard) {
      const exposed = { numerator: current.v2.errors - start.v2.errors, denominator: current.v2.requests - start.v2.requests };
      const control = { numerator: current.v1.errors - start.v1.errors, denominator: current.v1.requests - start.v1.requests };
      const look = lookAt(body.guard, exposed, control);
      plan.verdict = { status: look.breached ? 'breach' : look.decided ? 'ok' : 'insufficient-data', z: look.z, threshold: look.threshold, exposed, control };
      if (look.breached) {
        await admin.putFlagConfig(plan.environment, plan.flag, { enabled: false, reason: 'emulated guard breach' });
        Object.assign(plan, { state: 'rolled-back', outcome: 'rolled-back', reason: `emulated guard: z = ${look.z.toFixed(2)}`, updatedAt: new Date().toISOString() });
        return;
      }
    }
    if (now >= Date.parse(plan.stepStartedAt!) + step.holdSeconds * 1000) {
      if (plan.stepIndex === plan.steps.length - 1) {
        Object.assign(plan, { state: 'completed', outcome: 'completed', updatedAt: new Date().toISOString() });
        return;
      }
      plan.stepIndex += 1;
      await setPercentage(plan, plan.steps[plan.stepIndex]!.percentage);
    }
    const timer = setTimeout(() => {
      timers.delete(timer);
      void drive(plan, body, start);
    }, 200);
    timers.add(timer);
  }

  async function setPercentage(plan: RolloutPlan, percentage: number): Promise<void> {
    const config = await admin.getFlagConfig(plan.environment, plan.flag);
    const rules = config.rules.map((r) => (r.id === plan.ruleId ? { ...r, rollout: { ...r.rollout, percentage } } : r));
    const saved = await admin.putFlagConfig(plan.environment, plan.flag, { rules });
    plan.stepStartedAt = saved.updatedAt ?? new Date().toISOString();
    plan.updatedAt = plan.stepStartedAt;
  }

  return {
    ...admin,
    async createPlan(environment, flag, body) {
      const id = `emulated-${plans.size + 1}`;
      const created = new Date().toISOString();
      const plan: RolloutPlan = {
        id, environment, flag, ruleId: body.ruleId, state: 'running', stepIndex: 0, steps: body.steps, guard: body.guard ?? null,
        verdict: null, warnings: [], outcome: null, reason: null, createdAt: created, updatedAt: created, stepStartedAt: created,
      };
      plans.set(id, plan);
      await setPercentage(plan, body.steps[0]!.percentage);
      void drive(plan, body, counts() ?? { v1: { requests: 0, errors: 0 }, v2: { requests: 0, errors: 0 } });
      return structuredClone(plan);
    },
    async getPlan(id) {
      const plan = plans.get(id);
      if (!plan) throw new Error(`no emulated plan ${id}`);
      return structuredClone(plan);
    },
    stop() {
      for (const t of timers) clearTimeout(t);
    },
  };
}
