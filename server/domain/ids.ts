import { randomFillSync } from 'node:crypto';

export type IdKind = 'conv' | 'msg' | 'agt' | 'item';

const ID_BYTES = 12;
/** Random bytes drawn from the CSPRNG in batches: one randomBytes(12) per id was 2 % of a busy node's CPU. */
const POOL_BYTES = ID_BYTES * 512;
const pool = Buffer.alloc(POOL_BYTES);
let used = POOL_BYTES;

export function newId(kind: IdKind): string {
  if (used + ID_BYTES > POOL_BYTES) {
    randomFillSync(pool);
    used = 0;
  }
  const id = `${kind}_${pool.toString('base64url', used, used + ID_BYTES)}`;
  used += ID_BYTES;
  return id;
}
