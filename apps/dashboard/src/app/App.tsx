import { useEffect } from 'react';
import { ErrorNotice } from '../components/Notice';
import { ADMIN_PATHS, Admin } from '../features/admin/Admin';
import { AuditLog } from '../features/audit/AuditLog';
import { useCohorts } from '../features/cohorts/api';
import { CohortDetail } from '../features/cohorts/CohortDetail';
import { Cohorts } from '../features/cohorts/Cohorts';
import { useLogout, useMe, type Me } from '../features/auth/api';
import { SignIn } from '../features/auth/SignIn';
import { AcceptInvite, Setup } from '../features/auth/Setup';
import { isProduction, useEnvironments } from '../features/environments/api';
import { EnvironmentSwitcher } from '../features/environments/EnvironmentSwitcher';
import { FlagDetail } from '../features/flags/FlagDetail';
import { FlagList } from '../features/flags/FlagList';
import { Playground } from '../features/playground/Playground';
import { FlagPlans, RolloutsPage } from '../features/rollouts/PlanList';
import { PlanView } from '../features/rollouts/PlanView';
import { WebhookDetail, Webhooks } from '../features/webhooks/Webhooks';
import { useLiveEvents, type LiveState } from '../features/live/useLiveEvents';
import { permissionsOf } from '../lib/permissions';
import { navigate, onLinkClick, useLocation } from '../lib/router';

const ENV_STORAGE = 'aviary.environment';

/** Routes: the links the server prints (/setup, /invite) work signed out; everything else needs a session. */
export function App() {
  const { path, query } = useLocation();
  const token = query.get('token') ?? '';
  if (path === '/setup') return <Setup token={token} />;
  if (path === '/invite') return <AcceptInvite token={token} />;
  return <SignedIn />;
}

function SignedIn() {
  const me = useMe();
  if (me.isPending) return <p role="status" className="page">Loading…</p>;
  if (me.error) return <main className="page"><ErrorNotice error={me.error} /></main>;
  if (me.data === null) return <SignIn />;
  return <Shell me={me.data} />;
}

/** The signed-in app. `me` comes from `SignedIn`, which unmounts this once nobody is signed in:
 *  after a sign-out the other queries may re-render this first, and must not find `me` gone. */
function Shell({ me }: { me: Me }) {
  const { path, query } = useLocation();
  const environments = useEnvironments();
  const logout = useLogout();
  const envs = environments.data ?? [];
  const wanted = query.get('env') ?? localStorage.getItem(ENV_STORAGE) ?? '';
  const env = envs.some((e) => e.key === wanted) ? wanted : (envs.find((e) => !isProduction(e))?.key ?? envs[0]?.key ?? '');
  const production = envs.some((e) => e.key === env && isProduction(e));
  useEffect(() => {
    if (env) localStorage.setItem(ENV_STORAGE, env);
  }, [env]);
  const live = useLiveEvents(env);
  const can = permissionsOf(me, env);
  const select = (key: string) => {
    const next = new URLSearchParams(window.location.search);
    next.set('env', key);
    navigate(`${path}?${next}`);
  };
  const envQuery = env ? `?env=${encodeURIComponent(env)}` : '';
  const flagMatch = /^\/flags\/([^/]+)$/.exec(path);
  const webhookMatch = /^\/webhooks\/([^/]+)$/.exec(path);
  const planMatch = /^\/rollouts\/([^/]+)$/.exec(path);
  const cohortMatch = /^\/cohorts\/([^/]+)$/.exec(path);
  return (
    <div className={production ? 'app env-production' : 'app'}>
      <a href="#content" className="skip-link">
        Skip to content
      </a>
      <header className="top">
        <a href={`/${envQuery}`} onClick={onLinkClick} className="brand">
          Aviary
        </a>
        <nav aria-label="Main">
          <a href={`/${envQuery}`} onClick={onLinkClick} aria-current={path === '/' ? 'page' : undefined}>
            Flags
          </a>
          <a href={`/rollouts${envQuery}`} onClick={onLinkClick} aria-current={path.startsWith('/rollouts') ? 'page' : undefined}>
            Rollouts
          </a>
          <a href={`/cohorts${envQuery}`} onClick={onLinkClick} aria-current={path.startsWith('/cohorts') ? 'page' : undefined}>
            Cohorts
          </a>
          <a href={`/audit${envQuery}`} onClick={onLinkClick} aria-current={path === '/audit' ? 'page' : undefined}>
            Audit log
          </a>
          {can.kill && (
            <a href={`/playground${envQuery}`} onClick={onLinkClick} aria-current={path === '/playground' ? 'page' : undefined}>
              Playground
            </a>
          )}
          {can.admin && (
            <a href={`/admin${envQuery}`} onClick={onLinkClick} aria-current={ADMIN_PATHS.has(path) ? 'page' : undefined}>
              Keys and people
            </a>
          )}
          {can.admin && (
            <a href={`/webhooks${envQuery}`} onClick={onLinkClick} aria-current={path.startsWith('/webhooks') ? 'page' : undefined}>
              Webhooks
            </a>
          )}
        </nav>
        {envs.length > 0 && <EnvironmentSwitcher environments={envs} selected={env} onSelect={select} />}
        <div className="who">
          <span>
            {me.name} <span className="badge">{me.role}</span>
          </span>
          <button type="button" onClick={() => logout.mutate()}>
            Sign out
          </button>
        </div>
      </header>
      <LiveBanner state={live} />
      <ErrorNotice error={environments.error ?? logout.error} />
      <div id="content">
        {env &&
          (flagMatch ? (
            <FlagPage
              env={env}
              flagKey={decodeURIComponent(flagMatch[1])}
              production={production}
              can={can}
              extra={(config) => <FlagPlans env={env} flagKey={decodeURIComponent(flagMatch[1])} ruleIds={config.rules.map((r) => r.id)} can={can} />}
            />
          ) : planMatch ? (
            <PlanView id={decodeURIComponent(planMatch[1])} env={env} can={can} />
          ) : path === '/rollouts' ? (
            <RolloutsPage env={env} />
          ) : path === '/cohorts' ? (
            <Cohorts can={can} />
          ) : cohortMatch ? (
            <CohortDetail cohortKey={decodeURIComponent(cohortMatch[1])} can={can} />
          ) : path === '/audit' ? (
            <AuditLog env={env} />
          ) : path === '/playground' ? (
            <Playground env={env} />
          ) : ADMIN_PATHS.has(path) && can.admin ? (
            <Admin environments={envs} selfId={me.id} path={path} />
          ) : path === '/webhooks' && can.admin ? (
            <Webhooks />
          ) : webhookMatch && can.admin ? (
            <WebhookDetail id={decodeURIComponent(webhookMatch[1])} />
          ) : path === '/' ? (
            <FlagList env={env} production={production} can={can} />
          ) : (
            <main className="page">
              <h1>Not found</h1>
              <p>
                Nothing lives at {path}.{' '}
                <a href={`/${envQuery}`} onClick={onLinkClick}>
                  Back to the flags
                </a>
              </p>
            </main>
          ))}
      </div>
    </div>
  );
}

/** The flag page with the cohort keys its rule builder offers (features do not import each other). */
function FlagPage(props: Omit<React.ComponentProps<typeof FlagDetail>, 'cohorts'>) {
  const cohorts = useCohorts();
  return <FlagDetail {...props} cohorts={cohorts.data?.items.map((c) => c.key) ?? []} />;
}

function LiveBanner({ state }: { state: LiveState }) {
  if (state !== 'lost') return null;
  return (
    <div role="alert" className="banner banner-lost">
      Connection to the server lost: changes by others are not shown until it is back. Reconnecting…
    </div>
  );
}
