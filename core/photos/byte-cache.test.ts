import { describe, expect, it } from 'vitest';
import { ByteCache } from './byte-cache.ts';

describe('ByteCache', () => {
  const loader = () => {
    const calls: string[] = [];
    const load = async (key: string) => {
      calls.push(key);
      return Buffer.alloc(Number(key.split(':')[1]), key.charCodeAt(0));
    };
    return { calls, load };
  };

  it('loads once and then answers from memory', async () => {
    const cache = new ByteCache(1000, 500);
    const { calls, load } = loader();
    const first = await cache.get('a:100', load);
    const second = await cache.get('a:100', load);
    expect(second).toBe(first);
    expect(calls).toEqual(['a:100']);
    expect(cache.size).toBe(100);
  });

  it('drops the least recently used entries beyond its size', async () => {
    const cache = new ByteCache(300, 300);
    const { calls, load } = loader();
    await cache.get('a:100', load);
    await cache.get('b:100', load);
    await cache.get('c:100', load);
    await cache.get('a:100', load); // a is now the most recent
    await cache.get('d:100', load); // pushes out b, the least recent
    expect(cache.size).toBe(300);
    calls.length = 0;
    await cache.get('a:100', load);
    await cache.get('b:100', load);
    expect(calls).toEqual(['b:100']);
  });

  it('does not keep items larger than its per-item limit', async () => {
    const cache = new ByteCache(1000, 200);
    const { calls, load } = loader();
    await cache.get('a:500', load);
    await cache.get('a:500', load);
    expect(calls).toEqual(['a:500', 'a:500']);
    expect(cache.size).toBe(0);
  });
});
