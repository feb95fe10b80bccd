// The one seeded pseudo-random generator of generated test and benchmark data (fleets, feeds,
// package lists): mulberry32, small and fast, with the same sequence on every platform and
// Node version, so a seed names one data set. Never for anything that must be unpredictable.

/** A draw in [0, 1), as Math.random gives. */
export type Random = () => number;

/** The sequence of a 32-bit seed (any number; only its low 32 bits count). */
export function seededRandom(seed: number): Random {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One of `items`, each as likely. */
export function pick<T>(rand: Random, items: readonly T[]): T {
  return items[Math.floor(rand() * items.length)];
}
