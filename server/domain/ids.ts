import { randomBytes } from 'node:crypto';

export type IdKind = 'conv' | 'msg' | 'agt' | 'item';

export function newId(kind: IdKind): string {
  return `${kind}_${randomBytes(12).toString('base64url')}`;
}
