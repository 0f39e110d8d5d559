import { describe, expect, it } from 'vitest';
import { createSlots } from './encode-slots.ts';

describe('encode slots', () => {
  it('run at most their size at once, every task finishes, and a failing task frees its slot', async () => {
    const slots = createSlots(2);
    let running = 0;
    let most = 0;
    const task = (ms: number, fail = false) =>
      slots.run(async () => {
        running++;
        most = Math.max(most, running);
        await new Promise((resolve) => setTimeout(resolve, ms));
        running--;
        if (fail) throw new Error('encode failed');
        return ms;
      });
    const results = await Promise.allSettled([task(30), task(10, true), task(20), task(5), task(15)]);
    expect(most).toBe(2);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled', 'fulfilled']);
    // The slots are all free again: two more start at once.
    await Promise.all([task(5), task(5)]);
    expect(running).toBe(0);
  });
});
