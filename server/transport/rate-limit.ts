/** A token bucket: `ratePerSecond` refill, `burst` capacity. Time is injected for tests. */
export interface TokenBucket {
  take(): boolean;
}

export function createTokenBucket(ratePerSecond: number, burst: number, now: () => number = Date.now): TokenBucket {
  let tokens = burst;
  let last = now();
  return {
    take() {
      const current = now();
      tokens = Math.min(burst, tokens + ((current - last) / 1000) * ratePerSecond);
      last = current;
      if (tokens < 1) return false;
      tokens -= 1;
      return true;
    },
  };
}

/** Counts events in a sliding window; `exceeded` once more than `limit` fell within it. */
export function createWindowCounter(limit: number, windowMs: number, now: () => number = Date.now) {
  const times: number[] = [];
  return {
    hit(): boolean {
      const current = now();
      times.push(current);
      while (times.length > 0 && (times[0] ?? 0) <= current - windowMs) times.shift();
      return times.length > limit;
    },
  };
}
