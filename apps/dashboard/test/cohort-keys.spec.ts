import { describe, expect, it } from 'vitest';
import { keysOf } from '../src/features/cohorts/keys.js';

describe('keysOf (the keys of an uploaded file)', () => {
  it.each([
    ['one key per line, blank lines and spaces dropped', 'a\n\n b \r\nc\n', false, ['a', 'b', 'c']],
    ['a .txt keeps commas', 'a,b\nc', false, ['a,b', 'c']],
    ['a .csv: the first column', 'a,1\nb,2\n', true, ['a', 'b']],
    ['a .csv header named key is skipped', 'key,name\nu1,A\n', true, ['u1']],
    ['a quoted header too', '"Key",name\nu1,A\n', true, ['u1']],
    ['quoted cells lose their quotes', '"u ""1""",x\n', true, ['u "1"']],
    ['a .txt line "key" is a key', 'key\nu1\n', false, ['key', 'u1']],
    ['nothing', '\n\n', true, []],
  ])('%s', (_name, text, csv, keys) => {
    expect(keysOf(text, csv)).toEqual(keys);
  });
});
