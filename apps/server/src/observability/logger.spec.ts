import type { ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import type { AviaryRequest } from '../common/actor.js';
import { requestId } from '../common/request-id.js';
import { createLogger, loggableUrl, PinoNestLogger, prettyStream, scrubSecrets } from './logger.js';

function capture(level: 'log' | 'debug' = 'log', secrets: string[] = []) {
  const lines: Array<Record<string, unknown>> = [];
  const raw: string[] = [];
  const logger = createLogger({
    level,
    format: 'json',
    secrets,
    destination: {
      write: (line: string) => {
        raw.push(line);
        lines.push(JSON.parse(line) as Record<string, unknown>);
      },
    },
  });
  return { logger, lines, raw };
}

const KEY = 'avs_z7c9Sya4YOmkPbsU1tD-AAQw6__br4YunrRNylObaBg';

describe('log scrubbing', () => {
  it.each([
    [`Bearer ${KEY}`, 'Bearer avs_***'],
    ['admin ava_test_admin_token_0123456789 and avc_abcdefgh', 'admin ava_*** and avc_***'],
    ['no key here: avalanche, ava_ short', 'no key here: avalanche, ava_ short'],
  ])('%s', (input, output) => {
    expect(scrubSecrets(input)).toBe(output);
  });

  it('hides clientKey query values', () => {
    expect(loggableUrl('/sdk/v1/stream?key=u1&clientKey=avc_abc123&lastEventId=4')).toBe('/sdk/v1/stream?key=u1&clientKey=***&lastEventId=4');
    expect(loggableUrl('/sdk/v1/ruleset?clientKey=avc_abc123')).toBe('/sdk/v1/ruleset?clientKey=***');
  });

  it.each([
    ['/api/v1/flags?x=probeadmin0123456789abcdef0123456789', '/api/v1/flags?x=***'],
    ['/api/v1/flags?token=secret&limit=5', '/api/v1/flags?token=***&limit=5'],
    ['/api/v1/audit?resource=new-checkout&since=2026-01-01&cursor=7', '/api/v1/audit?resource=new-checkout&since=2026-01-01&cursor=7'],
    [`/api/v1/flags?${'k'.repeat(80)}`, '/api/v1/flags?***'],
    ['/api/v1/flags', '/api/v1/flags'],
  ])('logs only the query values the API takes: %s', (url, logged) => {
    expect(loggableUrl(url)).toBe(logged);
  });

  it('never writes keys, tokens or authorization headers', () => {
    const { logger, raw } = capture('log', ['s3cret-not-key-shaped']);
    logger.info({ headers: { authorization: `Bearer ${KEY}` }, url: `/x?clientKey=${KEY}` }, `verified ${KEY}`);
    logger.warn({ token: 'ava_whatever_0123456789abcdef' }, 'the password is s3cret-not-key-shaped');
    logger.error({ err: new Error(`bad key ${KEY}`) }, 'failed');
    const text = raw.join('');
    expect(text).not.toContain(KEY);
    expect(text).not.toContain('s3cret-not-key-shaped');
    expect(text).not.toContain('ava_whatever');
    expect(text).toContain('[redacted]');
  });
});

describe('JSON lines', () => {
  it('carry level names, time, and the id of the request being served', () => {
    const { logger, lines } = capture();
    const req = { headers: { 'x-request-id': 'req-42' } } as unknown as AviaryRequest;
    const res = { setHeader: () => undefined } as unknown as ServerResponse;
    requestId(req, res, () => logger.info('inside'));
    logger.info('outside');
    expect(lines[0]).toMatchObject({ level: 'info', msg: 'inside', reqId: 'req-42' });
    expect(typeof lines[0]!.time).toBe('string');
    expect(lines[1]).not.toHaveProperty('reqId');
  });
});

describe('PinoNestLogger', () => {
  it('maps Nest calls to pino levels with their context and stack', () => {
    const { logger, lines } = capture();
    const nest = new PinoNestLogger(logger);
    nest.log('started', 'NestApplication');
    nest.warn('careful', 'Bus');
    nest.error('boom', 'Error: boom\n    at somewhere (file.js:1:1)', 'ExceptionsHandler');
    nest.log('Mapped {/x, GET} route', 'RouterExplorer'); // start-up chatter: debug
    nest.debug('details', 'Bus');
    expect(lines).toEqual([
      expect.objectContaining({ level: 'info', context: 'NestApplication', msg: 'started' }),
      expect.objectContaining({ level: 'warn', context: 'Bus', msg: 'careful' }),
      expect.objectContaining({ level: 'error', context: 'ExceptionsHandler', msg: 'boom', stack: expect.stringContaining('at somewhere') }),
    ]);
  });

  it('follows setLogLevels', () => {
    const { logger, lines } = capture('log');
    const nest = new PinoNestLogger(logger);
    nest.setLogLevels(['error', 'warn', 'log', 'debug']);
    nest.debug('now visible', 'X');
    expect(lines.at(-1)).toMatchObject({ level: 'debug', msg: 'now visible' });
  });
});

describe('pretty mode', () => {
  it('prints one readable line per entry', () => {
    let out = '';
    const stream = prettyStream({ write: (s: string) => (out += s) } as unknown as NodeJS.WritableStream, false);
    stream.write(`${JSON.stringify({ level: 'info', time: '2026-11-26T16:37:19.277Z', context: 'Aviary', msg: 'hello', reqId: 'r1', extra: 1 })}\n`);
    expect(out).toBe('16:37:19.277 INFO  [Aviary] hello  extra=1  (r1)\n');
  });
});
