import { afterEach, describe, expect, it, vi } from 'vitest';
import { pendingDeadlines, scheduleDeadline } from './deadlines.js';

describe('scheduleDeadline (call timeouts on real time)', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('fires each deadline once, in order, at least ms later; cancelled ones never', () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'performance'] });
    const fired: string[] = [];
    scheduleDeadline(() => fired.push('a'), 100);
    vi.advanceTimersByTime(10);
    const cancelB = scheduleDeadline(() => fired.push('b'), 100);
    scheduleDeadline(() => fired.push('c'), 100);
    scheduleDeadline(() => fired.push('short'), 30);
    expect(pendingDeadlines()).toBe(4);
    cancelB();
    cancelB(); // idempotent
    vi.advanceTimersByTime(29);
    expect(fired).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(fired).toEqual(['short']);
    vi.advanceTimersByTime(59);
    expect(fired).toEqual(['short']);
    vi.advanceTimersByTime(1);
    expect(fired).toEqual(['short', 'a']);
    vi.advanceTimersByTime(10);
    expect(fired).toEqual(['short', 'a', 'c']);
    expect(pendingDeadlines()).toBe(0);
    expect(vi.getTimerCount()).toBe(0); // nothing left armed
  });

  it('keeps one timer per duration, however many calls are pending or settle in time', () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'performance'] });
    const cancels = Array.from({ length: 1_000 }, () => scheduleDeadline(() => {}, 3_000));
    expect(vi.getTimerCount()).toBe(1);
    for (const cancel of cancels) cancel();
    for (let i = 0; i < 1_000; i++) scheduleDeadline(() => {}, 3_000)();
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(3_000); // fires once, finds nothing due, arms nothing
    expect(vi.getTimerCount()).toBe(0);
    expect(pendingDeadlines()).toBe(0);
  });

  it('a deadline scheduled by a firing callback is kept, and a throwing callback stops nothing', () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'performance'] });
    const fired: string[] = [];
    scheduleDeadline(() => {
      fired.push('first');
      scheduleDeadline(() => fired.push('again'), 50);
      throw new Error('handler');
    }, 50);
    scheduleDeadline(() => fired.push('second'), 50);
    vi.advanceTimersByTime(50);
    expect(fired).toEqual(['first', 'second']);
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(50);
    expect(fired).toEqual(['first', 'second', 'again']);
  });

  it('its timers never keep the process alive', () => {
    const unref = vi.fn();
    const spy = vi
      .spyOn(globalThis, 'setTimeout')
      .mockReturnValue({ unref } as unknown as ReturnType<typeof setTimeout>);
    try {
      const cancel = scheduleDeadline(() => {}, 12_345);
      cancel();
      expect(spy).toHaveBeenCalledTimes(1);
      expect(unref).toHaveBeenCalledTimes(1);
    } finally {
      spy.mockRestore();
    }
  });
});
