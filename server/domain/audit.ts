import { randomBytes } from 'node:crypto';
import type { ChatStore } from '../store/chat-store.js';

export type AuditAction =
  | 'signin'
  | 'signin.failed'
  | 'signout'
  | 'role.changed'
  | 'sessions.revoked'
  | 'export'
  | 'erasure'
  | 'retention.purge'
  | 'model.promoted'
  | 'model.rolled_back'
  | 'policy.applied';

export interface AuditEntry {
  at: string;
  by: string;
  action: AuditAction;
  detail: Record<string, unknown>;
}

/** Who did what and when, for admins: sign-ins, role changes, exports, erasures, promotions, policy changes. */
export function createAudit(store: ChatStore, now: () => Date = () => new Date()) {
  return {
    async record(action: AuditAction, by: string, detail: Record<string, unknown> = {}): Promise<void> {
      const at = now().toISOString();
      await store.putRecord('audit', `${at}-${randomBytes(4).toString('hex')}`, { at, by, action, detail }).catch(() => {});
    },
    async list(limit = 500): Promise<AuditEntry[]> {
      return (await store.listRecords('audit')).map((r) => r.data as unknown as AuditEntry).sort((a, b) => (a.at < b.at ? 1 : -1)).slice(0, limit);
    },
  };
}

export type Audit = ReturnType<typeof createAudit>;
