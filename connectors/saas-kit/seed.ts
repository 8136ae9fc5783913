/** Deterministic pseudo-random numbers for stand-in seeds (mulberry32): same seed, same estate. */
export function rng(seed: string | number): () => number {
  let h = typeof seed === 'number' ? seed >>> 0 : 2166136261
  if (typeof seed === 'string') for (let i = 0; i < seed.length; i++) h = Math.imul(h ^ seed.charCodeAt(i), 16777619) >>> 0
  return () => {
    h = (h + 0x6d2b79f5) >>> 0
    let t = h
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export function pick<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)] as T
}

/** A stable id-like token: lower-case letters and digits. */
export function token(random: () => number, length: number, alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789'): string {
  let out = ''
  for (let i = 0; i < length; i++) out += alphabet[Math.floor(random() * alphabet.length)]
  return out
}

export const DAY = 86_400_000
