import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Signed conversation tokens: `v2.<conversationId>.<issued-at, base-36 seconds>.<hmac>`. Holding
 * the token is what lets a listener reach their conversation, and only that one. A token expires
 * `ttlMs` after it was issued; every resume issues a fresh one, so an active listener keeps
 * access, and a revocation (tokens issued before a time) cuts every older one off.
 */
export interface VerifiedToken {
  conversationId: string;
  issuedAtMs: number;
}

export interface ConversationTokens {
  issue(conversationId: string): string;
  /** What the token grants, or null for any forged, altered, malformed or expired token. */
  verify(token: string): VerifiedToken | null;
}

export function createConversationTokens(secret: string, options: { ttlMs?: number; now?: () => number } = {}): ConversationTokens {
  const ttlMs = options.ttlMs ?? 30 * 24 * 3600 * 1000;
  const now = options.now ?? Date.now;
  const sign = (payload: string) => createHmac('sha256', secret).update(payload).digest('base64url');
  return {
    issue(conversationId) {
      const payload = `v2.${conversationId}.${Math.floor(now() / 1000).toString(36)}`;
      return `${payload}.${sign(payload)}`;
    },
    verify(token) {
      const parts = token.split('.');
      if (parts.length !== 4 || parts[0] !== 'v2') return null;
      const [, conversationId = '', issued = '', signature = ''] = parts;
      if (!/^conv_[A-Za-z0-9_-]{8,64}$/.test(conversationId) || !/^[0-9a-z]{1,12}$/.test(issued)) return null;
      const expected = Buffer.from(sign(`v2.${conversationId}.${issued}`));
      const given = Buffer.from(signature);
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
      const issuedAtMs = parseInt(issued, 36) * 1000;
      if (!(issuedAtMs <= now() + 60_000) || now() - issuedAtMs > ttlMs) return null;
      return { conversationId, issuedAtMs };
    },
  };
}
