import { useDeferredValue, useId, useMemo, useState } from 'react';
import { ErrorNotice } from '../../components/Notice';
import { TableHead } from '../../components/TableHead';
import type { Permissions } from '../../lib/permissions';
import { onLinkClick } from '../../lib/router';
import { ago, when } from '../../lib/time';
import { useFlagList, type FlagListItem } from './api';
import { NewFlagDialog } from './NewFlagDialog';
import { SwitchDialog, type SwitchTarget } from './SwitchDialog';

/** Rows rendered at first: 5,000 rows of React and DOM take seconds on a slow machine; search finds the rest. */
const PAGE = 100;

interface Props {
  env: string;
  production: boolean;
  can: Permissions;
}

function matches(flag: FlagListItem, search: string, tag: string): boolean {
  if (tag && !flag.tags.includes(tag)) return false;
  if (!search) return true;
  const s = search.toLowerCase();
  return flag.key.toLowerCase().includes(s) || flag.name.toLowerCase().includes(s) || flag.description.toLowerCase().includes(s);
}

export function FlagList({ env, production, can }: Props) {
  const list = useFlagList(env);
  const [search, setSearch] = useState('');
  const [tag, setTag] = useState('');
  const [target, setTarget] = useState<SwitchTarget | null>(null);
  const [creating, setCreating] = useState(false);
  const [limit, setLimit] = useState(PAGE);
  // Typing stays responsive with thousands of rows: the list catches up when React has time.
  const deferredSearch = useDeferredValue(search);
  const items = list.data?.items;
  const tags = useMemo(() => [...new Set((items ?? []).flatMap((f) => f.tags))].sort(), [items]);
  const shown = useMemo(() => (items ?? []).filter((f) => matches(f, deferredSearch, tag)), [items, deferredSearch, tag]);
  const searchId = useId();
  const tagId = useId();
  return (
    <main className="page">
      <div className="page-head">
        <h1>Flags</h1>
        {can.define && (
          <button type="button" className="primary" onClick={() => setCreating(true)}>
            New flag
          </button>
        )}
      </div>
      <div className="filters" role="search">
        <div className="field">
          <label htmlFor={searchId}>Search flags</label>
          <input id={searchId} type="search" value={search} onChange={(e) => setSearch(e.target.value)} placeholder="Key, name or description" />
        </div>
        <div className="field">
          <label htmlFor={tagId}>Tag</label>
          <select id={tagId} value={tag} onChange={(e) => setTag(e.target.value)}>
            <option value="">All tags</option>
            {tags.map((t) => (
              <option key={t} value={t}>
                {t}
              </option>
            ))}
          </select>
        </div>
      </div>
      <ErrorNotice error={list.error} />
      {list.isPending && <p role="status">Loading flags…</p>}
      {items && (
        <p className="count" role="status">
          {shown.length === items.length ? `${items.length} flags` : `${shown.length} of ${items.length} flags`}
          {shown.length > limit && `, the first ${limit} shown`}
        </p>
      )}
      {items && shown.length > 0 && (
        <table className="flag-table">
          <TableHead columns={['Flag', `State in ${env}`, 'Rollout', 'Last change']} actions={can.kill} />
          <tbody>
            {shown.slice(0, limit).map((flag) => (
              <FlagRow key={flag.key} flag={flag} env={env} can={can} onSwitch={(action) => setTarget({ action, env, key: flag.key, production })} />
            ))}
          </tbody>
        </table>
      )}
      {shown.length > limit && (
        <button type="button" onClick={() => setLimit(limit + PAGE * 5)}>
          Show {Math.min(PAGE * 5, shown.length - limit)} more
        </button>
      )}
      <SwitchDialog target={target} onClose={() => setTarget(null)} />
      {creating && <NewFlagDialog onClose={() => setCreating(false)} />}
    </main>
  );
}

function FlagRow({ flag, env, can, onSwitch }: { flag: FlagListItem; env: string; can: Permissions; onSwitch: (action: 'kill' | 'revive') => void }) {
  const nameId = `flag-${flag.key}`;
  const change = flag.lastChange;
  return (
    <tr data-flag={flag.key}>
      <td data-label="Flag">
        <a id={nameId} href={`/flags/${encodeURIComponent(flag.key)}?env=${encodeURIComponent(env)}`} onClick={onLinkClick} className="flag-key">
          {flag.key}
        </a>
        {flag.name && flag.name !== flag.key && <div className="muted">{flag.name}</div>}
        {flag.tags.length > 0 && (
          <ul className="tags" aria-label="Tags">
            {flag.tags.map((t) => (
              <li key={t} className="tag">
                {t}
              </li>
            ))}
          </ul>
        )}
      </td>
      <td data-label="State">
        <span className={`state ${flag.enabled ? 'state-on' : 'state-off'}`}>{flag.enabled ? 'On' : 'Off'}</span>
      </td>
      <td data-label="Rollout">
        {flag.rolloutPercentage === null ? (flag.enabled ? 'everyone' : '—') : `${flag.rolloutPercentage} %`}
        {flag.plan && (
          <div className="muted plan">
            {flag.plan.step === null ? `plan of ${flag.plan.steps} steps, ${flag.plan.state}` : `plan step ${flag.plan.step} of ${flag.plan.steps}, ${flag.plan.state}`}
            {flag.plan.nextStepAt && flag.plan.state === 'running' && (
              <>
                {' '}
                · next{' '}
                <time dateTime={flag.plan.nextStepAt} title={when(flag.plan.nextStepAt)}>
                  {ago(flag.plan.nextStepAt)}
                </time>
              </>
            )}
          </div>
        )}
      </td>
      <td data-label="Last change">
        {change ? (
          <>
            <span>{change.by}</span>{' '}
            <time dateTime={change.at} title={when(change.at)}>
              {ago(change.at)}
            </time>
            {change.reason && <div className="muted">“{change.reason}”</div>}
          </>
        ) : (
          '—'
        )}
      </td>
      {can.kill && (
        <td className="row-actions">
          {flag.enabled ? (
            <button type="button" className="danger" aria-describedby={nameId} onClick={() => onSwitch('kill')}>
              Kill
            </button>
          ) : (
            can.change && (
              <button type="button" aria-describedby={nameId} onClick={() => onSwitch('revive')}>
                Revive
              </button>
            )
          )}
        </td>
      )}
    </tr>
  );
}
