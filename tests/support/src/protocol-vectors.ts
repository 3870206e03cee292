/**
 * The protocol vectors of @aviary/core (vectors/protocol.json) for the SDK suites that run them
 * through their real message handling: the file, and each step's event as server-sent-event text.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

/** One event as the vectors write it: `data` is sent as its JSON, `text` as is (each line one `data:` line). */
export interface VectorEvent {
  event?: string;
  id?: string;
  data?: unknown;
  text?: string;
}

/** What a client shows after a step. */
export interface VectorExpectation {
  /** The served ruleset's revision; null when there is none. */
  revision: number | null;
  /** Flag → whether it evaluates on for the vectors' context; null: FLAG_NOT_FOUND. */
  flags: Record<string, boolean | null>;
  /** Events emitted by the step, in order: `[name, payload]`, errors as `['error', { code }]`. */
  events: [string, unknown][];
  /** Whether the client reconnects without Last-Event-ID after the step (the next step goes to the new connection). */
  reload: boolean;
}

export interface ProtocolVector {
  name: string;
  steps: { send: VectorEvent; expect: VectorExpectation }[];
}

export interface ProtocolVectors {
  version: number;
  context: { key: string };
  vectors: ProtocolVector[];
}

export function loadProtocolVectors(): ProtocolVectors {
  const file = createRequire(import.meta.url).resolve('@aviary/core/protocol-vectors.json');
  return JSON.parse(readFileSync(file, 'utf8')) as ProtocolVectors;
}

/** The event as it goes over the wire, blank line included. */
export function toServerSentEvent({ event, id, data, text }: VectorEvent): string {
  const lines = (text ?? JSON.stringify(data)).split('\n').map((line) => `data: ${line}`);
  if (id !== undefined) lines.unshift(`id: ${id}`);
  if (event !== undefined) lines.unshift(`event: ${event}`);
  return `${lines.join('\n')}\n\n`;
}
