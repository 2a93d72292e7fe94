import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Signed conversation tokens: `v1.<conversationId>.<hmac>`. Holding the token is what lets a
 * listener reach their conversation, and only that one.
 */
export interface ConversationTokens {
  issue(conversationId: string): string;
  /** The conversation id the token grants, or null for any forged, altered or malformed token. */
  verify(token: string): string | null;
}

export function createConversationTokens(secret: string): ConversationTokens {
  const sign = (conversationId: string) =>
    createHmac('sha256', secret).update(`v1.${conversationId}`).digest('base64url');
  return {
    issue(conversationId) {
      return `v1.${conversationId}.${sign(conversationId)}`;
    },
    verify(token) {
      const parts = token.split('.');
      if (parts.length !== 3 || parts[0] !== 'v1') return null;
      const [, conversationId = '', signature = ''] = parts;
      if (!/^conv_[A-Za-z0-9_-]{8,64}$/.test(conversationId)) return null;
      const expected = Buffer.from(sign(conversationId));
      const given = Buffer.from(signature);
      return given.length === expected.length && timingSafeEqual(given, expected) ? conversationId : null;
    },
  };
}
