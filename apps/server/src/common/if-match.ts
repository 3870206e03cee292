import { BadRequestException, PreconditionFailedException } from '@nestjs/common';

/** Parses `If-Match` for a per-environment config version: `"7"`, `7`, `W/"7"` or `*`.
 *  Answers undefined when absent or `*` (unconditional), the version otherwise. */
export function parseIfMatch(header: string | string[] | undefined): number | undefined {
  if (header === undefined) return undefined;
  const value = (Array.isArray(header) ? header.join(',') : header).trim();
  if (value === '' || value === '*') return undefined;
  const match = /^(?:W\/)?"?(\d{1,9})"?$/.exec(value);
  if (!match) throw new BadRequestException('If-Match must be a config version, such as "7"');
  return Number(match[1]);
}

/** 412 when the caller edited a version that is no longer current. */
export function assertVersion(expected: number | undefined, current: number): void {
  if (expected !== undefined && expected !== current) {
    throw new PreconditionFailedException(`The config is at version ${current}, not ${expected}: reload it and retry`);
  }
}
