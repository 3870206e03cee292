import type { Logger } from './logger.js';

type Listener<T> = (payload: T) => void;

/** A typed event emitter whose listeners cannot break the emitter: a throwing listener is logged. */
export interface Emitter<Events extends object> {
  /** Returns the function that removes the listener again. */
  on<K extends keyof Events>(event: K, listener: Listener<Events[K]>): () => void;
  off<K extends keyof Events>(event: K, listener: Listener<Events[K]>): void;
  emit<K extends keyof Events>(event: K, payload: Events[K]): void;
  clear(): void;
}

export function createEmitter<Events extends object>(logger: Logger): Emitter<Events> {
  // Copy on write: `emit` walks the array it found, so a listener added or removed meanwhile takes
  // effect from the next emit, and emitting allocates nothing.
  const listeners = new Map<keyof Events, readonly Listener<never>[]>();
  const emitter: Emitter<Events> = {
    on(event, listener) {
      const list = listeners.get(event) ?? [];
      if (!list.includes(listener as Listener<never>)) listeners.set(event, [...list, listener as Listener<never>]);
      return () => emitter.off(event, listener);
    },
    off(event, listener) {
      const list = listeners.get(event);
      if (list?.includes(listener as Listener<never>)) listeners.set(event, list.filter((l) => l !== listener));
    },
    emit(event, payload) {
      const list = listeners.get(event);
      if (list === undefined) return;
      for (let i = 0; i < list.length; i++) {
        try {
          (list[i] as Listener<typeof payload>)(payload);
        } catch (error) {
          logger.error(`a "${String(event)}" listener threw`, error);
        }
      }
    },
    clear() {
      listeners.clear();
    },
  };
  return emitter;
}
