import { describe, expect, it } from 'vitest';
import { createEmitter } from './emitter.js';
import { createConsoleLogger } from './logger.js';

describe('emitter', () => {
  it('calls each listener once, in the order added; a listener added or removed during an emit counts from the next', () => {
    const emitter = createEmitter<{ tick: number }>(createConsoleLogger('none'));
    const calls: string[] = [];
    const late = (n: number) => calls.push(`late ${n}`);
    const second = (n: number) => calls.push(`second ${n}`);
    const first = (n: number) => {
      calls.push(`first ${n}`);
      emitter.on('tick', late);
      emitter.off('tick', second);
    };
    emitter.on('tick', first);
    emitter.on('tick', second);
    emitter.on('tick', first);
    emitter.emit('tick', 1);
    emitter.emit('tick', 2);
    expect(calls).toEqual(['first 1', 'second 1', 'first 2', 'late 2']);
    emitter.clear();
    emitter.emit('tick', 3);
    expect(calls).toHaveLength(4);
  });

  it('logs a throwing listener and goes on with the others', () => {
    const errors: string[] = [];
    const emitter = createEmitter<{ tick: number }>({ error: (message: string) => errors.push(message), warn() {}, info() {}, debug() {} });
    const seen: number[] = [];
    emitter.on('tick', () => {
      throw new Error('bug');
    });
    emitter.on('tick', (n) => seen.push(n));
    emitter.emit('tick', 1);
    expect(seen).toEqual([1]);
    expect(errors).toEqual(['a "tick" listener threw']);
  });
});
