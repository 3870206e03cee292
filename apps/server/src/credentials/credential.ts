/**
 * What authenticated a request or a stream: an API key, or a person's sign-in session (ended by
 * signing out, by an admin, or by disabling the person). Both are revoked through the same path:
 * a message to every instance, and a periodic check with Postgres for the message that got lost.
 */
export type CredentialKind = 'api-key' | 'session';

export interface Credential {
  kind: CredentialKind;
  id: string;
}

/** A credential as one string, the way streams carry it: `api-key:<id>`, `session:<id>`. */
export type CredentialRef = `${CredentialKind}:${string}`;

const KINDS: ReadonlySet<string> = new Set<CredentialKind>(['api-key', 'session']);

export function credentialRef(credential: Credential): CredentialRef {
  return `${credential.kind}:${credential.id}`;
}

export function parseCredentialRef(ref: string): Credential | undefined {
  const colon = ref.indexOf(':');
  const kind = ref.slice(0, colon);
  const id = ref.slice(colon + 1);
  return colon > 0 && id !== '' && KINDS.has(kind) ? { kind: kind as CredentialKind, id } : undefined;
}

/** A message from another instance, parsed; undefined for anything else. */
export function parseCredential(value: unknown): Credential | undefined {
  const c = value as Partial<Credential> | null;
  if (typeof c !== 'object' || c === null || typeof c.kind !== 'string' || typeof c.id !== 'string') return undefined;
  return KINDS.has(c.kind) && c.id !== '' && c.id.length <= 200 ? { kind: c.kind, id: c.id } : undefined;
}
