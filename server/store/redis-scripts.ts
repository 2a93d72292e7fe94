/**
 * One Lua script per atomic change. Each header names its KEYS and ARGV.
 * Scripts are registered once per connection with defineCommand.
 *
 * The scripts that add events also PUBLISH them (`{"first":seq,"events":[...]}` on the
 * conversation's events channel), so a write and its notification are one round trip, and a
 * notification never reports events that were not stored.
 */

/** Lua: publishes events ARGV[from..to], the first numbered `first`, on `channel`. */
const PUBLISH_EVENTS = `
local function publishEvents(channel, first, from, to)
  local parts = {}
  for i = from, to do parts[#parts + 1] = ARGV[i] end
  redis.call('PUBLISH', channel, '{"first":' .. first .. ',"events":[' .. table.concat(parts, ',') .. ']}')
end
`;

/**
 * createConversation
 * KEYS[1] conversation hash, KEYS[2] events list
 * ARGV[1] N (number of events), ARGV[2] events channel, ARGV[3..N+2] event JSON,
 * ARGV[N+3..] field, value pairs of the record
 * Returns lastSeq, or -1 when the conversation already exists.
 */
export const CREATE_CONVERSATION = `${PUBLISH_EVENTS}
if redis.call('EXISTS', KEYS[1]) == 1 then return -1 end
local n = tonumber(ARGV[1])
for i = 3, n + 2 do redis.call('RPUSH', KEYS[2], ARGV[i]) end
local fields = {}
for i = n + 3, #ARGV do fields[#fields + 1] = ARGV[i] end
redis.call('HSET', KEYS[1], 'lastSeq', n, unpack(fields))
if n > 0 then publishEvents(ARGV[2], 1, 3, n + 2) end
return n
`;

/**
 * appendEvents: guards, then append + patch + queue and agent-chat moves, all or nothing.
 * KEYS[1] conversation hash, KEYS[2] events list, KEYS[3] dedupe hash,
 * KEYS[4] queue to leave, KEYS[5] queue to join, KEYS[6] agent chats to leave, KEYS[7] agent chats to join
 *   (unused ones repeat KEYS[1] and are not touched)
 * ARGV[1] control JSON: d dedupe key ('' none), dm message id for it, s allowed states csv ('' any),
 *   a expected agentId ('' = nobody; absent = no check), u updatedAt, qr 1 = leave queue (guard: member),
 *   qa score string = join queue, cr 1 = leave agent chats, ca capacity = join agent chats (guard),
 *   m member (conversation id), f field/value pairs to set, x fields to delete, p events channel
 * ARGV[2..] event JSON, numbered from lastSeq + 1 (published on p once stored)
 * Returns {'appended', lastSeq} | {'duplicate', seq, messageId} | {'conflict', state}
 *   | {'agent_mismatch'} | {'not_queued'} | {'at_capacity'} | {'not_found'}
 */
export const APPEND_EVENTS = `${PUBLISH_EVENTS}
if redis.call('EXISTS', KEYS[1]) == 0 then return {'not_found'} end
local c = cjson.decode(ARGV[1])
if c.d ~= '' then
  local seen = redis.call('HGET', KEYS[3], c.d)
  if seen then
    local sep = string.find(seen, '|', 1, true)
    return {'duplicate', string.sub(seen, 1, sep - 1), string.sub(seen, sep + 1)}
  end
end
if c.s ~= '' then
  local state = redis.call('HGET', KEYS[1], 'state')
  if not string.find(',' .. c.s .. ',', ',' .. state .. ',', 1, true) then return {'conflict', state} end
end
if c.a ~= nil then
  local agent = redis.call('HGET', KEYS[1], 'agentId') or ''
  if agent ~= c.a then return {'agent_mismatch'} end
end
if c.qr == 1 and not redis.call('ZSCORE', KEYS[4], c.m) then return {'not_queued'} end
if c.ca ~= nil and redis.call('SISMEMBER', KEYS[7], c.m) == 0 and redis.call('SCARD', KEYS[7]) >= c.ca then
  return {'at_capacity'}
end
local n = #ARGV - 1
local last = tonumber(redis.call('HGET', KEYS[1], 'lastSeq'))
for i = 2, #ARGV do redis.call('RPUSH', KEYS[2], ARGV[i]) end
redis.call('HSET', KEYS[1], 'lastSeq', last + n, 'updatedAt', c.u, unpack(c.f))
if #c.x > 0 then redis.call('HDEL', KEYS[1], unpack(c.x)) end
if c.d ~= '' then redis.call('HSET', KEYS[3], c.d, (last + 1) .. '|' .. c.dm) end
if c.qr == 1 then redis.call('ZREM', KEYS[4], c.m) end
if c.qa ~= nil then redis.call('ZADD', KEYS[5], c.qa, c.m) end
if c.cr == 1 then redis.call('SREM', KEYS[6], c.m) end
if c.ca ~= nil then redis.call('SADD', KEYS[7], c.m) end
if n > 0 then publishEvents(c.p, last + 1, 2, #ARGV) end
return {'appended', tostring(last + n)}
`;

/**
 * saveAgent
 * KEYS[1] agents hash (id -> JSON), KEYS[2] e-mail index hash (email -> id)
 * ARGV[1] id, ARGV[2] email, ARGV[3] account JSON
 * Returns 1, or -1 when the e-mail belongs to another account.
 */
export const SAVE_AGENT = `
local owner = redis.call('HGET', KEYS[2], ARGV[2])
if owner and owner ~= ARGV[1] then return -1 end
local previous = redis.call('HGET', KEYS[1], ARGV[1])
if previous then
  local old = cjson.decode(previous)
  if old.email ~= ARGV[2] then redis.call('HDEL', KEYS[2], old.email) end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
redis.call('HSET', KEYS[2], ARGV[2], ARGV[1])
return 1
`;
