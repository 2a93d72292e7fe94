import { AppError } from '../errors.js';
import type { ChatStore } from '../store/chat-store.js';

export interface SignInGuardOptions {
  /** Failures (per account and per address) within the window after which sign-in is locked. */
  maxFailures: number;
  windowMs: number;
  /** Each failure waits this long times the failures so far (capped), to slow guessing. */
  delayStepMs: number;
  maxDelayMs: number;
}

export const DEFAULT_SIGN_IN_GUARD: SignInGuardOptions = { maxFailures: 5, windowMs: 15 * 60 * 1000, delayStepMs: 250, maxDelayMs: 2000 };

/**
 * Slows and locks out password guessing, per account (e-mail) and per address, with counters in
 * the store so every node sees the same failures.
 */
export function createSignInGuard(store: ChatStore, options: SignInGuardOptions = DEFAULT_SIGN_IN_GUARD) {
  const accountKey = (email: string) => `signin:account:${email.trim().toLowerCase()}`;
  const addressKey = (address: string) => `signin:address:${address}`;
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  return {
    /** Throws SIGN_IN_LOCKED while the account or the address has too many recent failures. */
    async check(email: string, address: string): Promise<void> {
      const counts = await Promise.all([store.readCounter(accountKey(email)), store.readCounter(addressKey(address))]);
      const locked = counts.find((c) => c.count >= options.maxFailures);
      if (locked) throw new AppError('SIGN_IN_LOCKED', `Too many failed sign-ins; try again in ${Math.max(1, Math.ceil(locked.resetInMs / 60000))} minutes.`);
    },
    async failed(email: string, address: string): Promise<void> {
      const counts = await Promise.all([store.hitCounter(accountKey(email), options.windowMs), store.hitCounter(addressKey(address), options.windowMs)]);
      await sleep(Math.min(options.maxDelayMs, options.delayStepMs * Math.max(...counts.map((c) => c.count))));
    },
    async succeeded(email: string): Promise<void> {
      await store.resetCounter(accountKey(email));
    },
  };
}
