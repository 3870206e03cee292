import { useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import type { Schemas } from '../../lib/api';

export type LiveState = 'connecting' | 'live' | 'lost';
type LiveEvent = Schemas['LiveEventView'];
type PlanEvent = Schemas['PlanEventView'];

/** The server pings every 15 s: this long without a frame means the stream is dead although the socket may look open. */
const SILENCE_MS = 40_000;

/**
 * Follows one environment's changes (`GET /api/v1/environments/:env/events`, the same change path
 * as the SDK stream) and invalidates exactly what a change touches, rollout plans' changes
 * (`event: plan`) included. EventSource reconnects by itself; after a gap everything of the
 * environment is refetched, since changes may have been missed.
 */
export function useLiveEvents(env: string): LiveState {
  const client = useQueryClient();
  // Kept with the environment it describes: a newly selected one starts as 'connecting'.
  const [current, setCurrent] = useState<{ env: string; state: LiveState }>({ env, state: 'connecting' });
  useEffect(() => {
    if (!env) return;
    let source: EventSource | undefined;
    let silence: ReturnType<typeof setTimeout> | undefined;
    let retry: ReturnType<typeof setTimeout> | undefined;
    let everOpened = false;
    let closed = false;
    const setState = (state: LiveState) => setCurrent({ env, state });
    const refetchAll = () => {
      void client.invalidateQueries({ queryKey: ['flags'] });
      void client.invalidateQueries({ queryKey: ['audit'] });
      void client.invalidateQueries({ queryKey: ['plans'] });
    };
    const heard = () => {
      clearTimeout(silence);
      silence = setTimeout(() => {
        setState('lost');
        reconnect();
      }, SILENCE_MS);
    };
    const reconnect = () => {
      source?.close();
      clearTimeout(retry);
      retry = setTimeout(connect, 1000);
    };
    const connect = () => {
      if (closed) return;
      source = new EventSource(`/api/v1/environments/${encodeURIComponent(env)}/events`);
      source.onopen = () => {
        heard();
        setState('live');
        if (everOpened) refetchAll();
        everOpened = true;
      };
      source.onerror = () => {
        // CONNECTING: the browser retries by itself; CLOSED (a 401, a 5xx): we retry.
        setState('lost');
        if (source?.readyState === EventSource.CLOSED) reconnect();
      };
      source.addEventListener('ping', heard);
      source.addEventListener('change', (message) => {
        heard();
        const event = JSON.parse((message as MessageEvent<string>).data) as LiveEvent;
        if (event.kind === 'ruleset') return refetchAll();
        void client.invalidateQueries({ queryKey: ['flags', 'list', env] });
        for (const key of event.flags) {
          void client.invalidateQueries({ queryKey: ['flags', 'config', env, key] });
          void client.invalidateQueries({ queryKey: ['flags', 'definition', key] });
        }
        if (event.cohorts.length > 0) void client.invalidateQueries({ queryKey: ['cohorts'] });
        void client.invalidateQueries({ queryKey: ['audit'] });
      });
      // A rollout plan changed (no revision): its page, the plan lists, the flag list's plan column.
      source.addEventListener('plan', (message) => {
        heard();
        const event = JSON.parse((message as MessageEvent<string>).data) as PlanEvent;
        void client.invalidateQueries({ queryKey: ['plans', 'detail', event.plan] });
        void client.invalidateQueries({ queryKey: ['plans', 'list', env] });
        void client.invalidateQueries({ queryKey: ['plans', 'metrics', env, event.flag] });
        void client.invalidateQueries({ queryKey: ['flags', 'list', env] });
        void client.invalidateQueries({ queryKey: ['audit'] });
      });
    };
    connect();
    return () => {
      closed = true;
      clearTimeout(silence);
      clearTimeout(retry);
      source?.close();
    };
  }, [env, client]);
  return current.env === env ? current.state : 'connecting';
}
