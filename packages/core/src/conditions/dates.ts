const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?)?(?:(Z)|([+-])(\d{2}):?(\d{2}))?$/;

/**
 * An instant in epoch milliseconds from epoch milliseconds (a number or a string of digits) or
 * an ISO-8601 string, where no offset means UTC. NaN when it is neither.
 */
export function parseInstant(input: unknown): number {
  if (typeof input === 'number') return Number.isFinite(input) ? input : NaN;
  if (typeof input !== 'string') return NaN;
  if (/^-?\d+$/.test(input)) return Number(input);
  const m = ISO.exec(input);
  if (m === null) return NaN;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const [hour, minute, second] = [Number(m[4] ?? 0), Number(m[5] ?? 0), Number(m[6] ?? 0)];
  if (m[4] === undefined && (m[8] !== undefined || m[9] !== undefined)) return NaN;
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59) return NaN;
  if (m[9] !== undefined && (Number(m[10]) > 23 || Number(m[11]) > 59)) return NaN;
  const ms = m[7] === undefined ? 0 : Math.floor(Number('0.' + m[7]) * 1000);
  const date = new Date(0);
  // setUTCFullYear, unlike Date.UTC, does not read years below 100 as 19xx.
  date.setUTCFullYear(year, month - 1, day);
  if (date.getUTCDate() !== day) return NaN;
  date.setUTCHours(hour, minute, second, ms);
  const offset = m[9] === undefined ? 0 : (m[9] === '-' ? -1 : 1) * (Number(m[10]) * 60 + Number(m[11])) * 60000;
  return date.getTime() - offset;
}
