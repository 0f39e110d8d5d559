import { availableParallelism } from 'node:os';

/** Runs tasks with at most `size` of them at once; the others wait their turn, first come first served. */
export interface Slots {
  run<T>(task: () => Promise<T>): Promise<T>;
}

export function createSlots(size: number): Slots {
  let free = size;
  const waiting: (() => void)[] = [];
  return {
    async run<T>(task: () => Promise<T>): Promise<T> {
      if (free > 0) free--;
      else await new Promise<void>((resolve) => waiting.push(resolve));
      try {
        return await task();
      } finally {
        // Hand the slot straight to the next in line, or give it back.
        const next = waiting.shift();
        if (next) next();
        else free++;
      }
    },
  };
}

/**
 * The photo page's variants made on first request (core/photos/traced-views.ts): an AVIF of
 * 1600 px costs a second or more of CPU. Without a bound, a burst of first views (or one account
 * asking for every size of every photo) would take every core from the pages; with it, half the
 * cores encode at most and the rest of the requests wait.
 */
export const variantEncodeSlots: Slots = createSlots(Math.max(1, Math.floor(availableParallelism() / 2)));
