import { describe, expect, it } from 'vitest';
import { firstJson, mismatches, parsePattern, shellBlocks, shellSteps } from './shell-doc.js';

const page = [
  'Some prose.',
  '```ts',
  'const x = 1;',
  '```',
  '```sh',
  'export AVIARY=http://localhost:4000 KEY=ava_…   # printed on first start',
  "curl -s -X POST $AVIARY/x -d '{",
  '  "a": 1}\'',
  '# {"ok":true,',
  '#  "id":"…",…}   prose after the output',
  'curl -s $AVIARY/y \\',
  '  -H "X: y"',
  '# Prose first: {"not":"an output"}',
  '',
  'AVIARY_CORS_ORIGINS=https://a.example npm start',
  '```',
  '<!-- docs-test: skip (needs a Docker engine) -->',
  '```sh',
  'docker compose up -d',
  '```',
].join('\n');

describe('shellBlocks and shellSteps', () => {
  const blocks = shellBlocks('page.md', page);

  it('finds the shell blocks, with the reason a block is skipped', () => {
    expect(blocks.map((b) => [b.line, b.skip])).toEqual([
      [5, undefined],
      [18, '(needs a Docker engine)'],
    ]);
  });

  it('splits commands over continuations and open quotes, and attaches the output shown under each', () => {
    const steps = shellSteps(blocks[0]!);
    expect(steps.map((s) => s.line)).toEqual([6, 7, 11, 15]);
    expect(steps[1]!.command).toContain('"a": 1}\'');
    expect(steps[1]!.expected).toBe('{"ok":true,"id":"…",…}');
    expect(steps[2]!.expected).toBeUndefined();
    expect(steps[3]!.serverEnv).toEqual({ AVIARY_CORS_ORIGINS: 'https://a.example' });
  });
});

describe('mismatches', () => {
  it.each([
    ['{"a":1,"b":"x"}', { a: 1, b: 'x' }, []],
    ['{"a":1}', { a: 1, b: 2 }, ['$.b: not shown in the docs']],
    ['{"a":1,…}', { a: 1, b: 2 }, []],
    ['{"a":1,...}', { b: 2 }, ['$.a: missing']],
    ['{"id":"…"}', { id: 7 }, []],
    ['{"secret":"avc_…"}', { secret: 'avc_123' }, []],
    ['{"secret":"avc_…"}', { secret: 'avs_123' }, ['$.secret: "avs_123" is not like "avc_…"']],
    ['[{"x":1},…]', [{ x: 1 }, { y: 2 }], []],
    ['[{"x":1}]', [{ x: 1 }, { y: 2 }], ['$: expected 1 items, got 2']],
    ['{"r":{...}}', { r: { any: 'thing' } }, []],
    ['{"n":2}', { n: 3 }, ['$.n: expected 2, got 3']],
  ])('%s against %j', (shown, actual, expected) => {
    expect(mismatches(parsePattern(shown), actual)).toEqual(expected);
  });

  it('reads the first JSON body of an output', () => {
    expect(firstJson('HTTP/1.1 200\n{"a":[1,\n2]} trailing')).toEqual({ a: [1, 2] });
    expect(firstJson('no json')).toBeUndefined();
  });
});
