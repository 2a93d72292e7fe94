/**
 * One Lua script per atomic change. Each header names its KEYS and ARGV.
 * Scripts are registered once per connection with defineCommand.
 */

/**
 * createConversation
 * KEYS[1] conversation hash, KEYS[2] events list
 * ARGV[1] N (number of events), ARGV[2..N+1] event JSON, ARGV[N+2..] field, value pairs of the record
 * Returns lastSeq, or -1 when the conversation already exists.
 */
export const CREATE_CONVERSATION = `
if redis.call('EXISTS', KEYS[1]) == 1 then return -1 end
local n = tonumber(ARGV[1])
for i = 2, n + 1 do redis.call('RPUSH', KEYS[2], ARGV[i]) end
local fields = {}
for i = n + 2, #ARGV do fields[#fields + 1] = ARGV[i] end
redis.call('HSET', KEYS[1], 'lastSeq', n, unpack(fields))
return n
`;

/**
 * appendEvents
 * KEYS[1] conversation hash, KEYS[2] events list, KEYS[3] dedupe hash
 * ARGV[1] dedupe key or '', ARGV[2] message id recorded for the dedupe key,
 * ARGV[3] allowed current states, comma-separated, or '', ARGV[4] updatedAt,
 * ARGV[5] N (number of events), ARGV[6..N+5] event JSON, ARGV[N+6..] field, value pairs to set
 * Returns {'appended', lastSeq} | {'duplicate', seq, messageId} | {'conflict', state} | {'not_found'}
 */
export const APPEND_EVENTS = `
if redis.call('EXISTS', KEYS[1]) == 0 then return {'not_found'} end
if ARGV[1] ~= '' then
  local seen = redis.call('HGET', KEYS[3], ARGV[1])
  if seen then
    local sep = string.find(seen, '|', 1, true)
    return {'duplicate', string.sub(seen, 1, sep - 1), string.sub(seen, sep + 1)}
  end
end
if ARGV[3] ~= '' then
  local state = redis.call('HGET', KEYS[1], 'state')
  if not string.find(',' .. ARGV[3] .. ',', ',' .. state .. ',', 1, true) then return {'conflict', state} end
end
local n = tonumber(ARGV[5])
local last = tonumber(redis.call('HGET', KEYS[1], 'lastSeq'))
for i = 6, n + 5 do redis.call('RPUSH', KEYS[2], ARGV[i]) end
local fields = {}
for i = n + 6, #ARGV do fields[#fields + 1] = ARGV[i] end
redis.call('HSET', KEYS[1], 'lastSeq', last + n, 'updatedAt', ARGV[4], unpack(fields))
if ARGV[1] ~= '' then redis.call('HSET', KEYS[3], ARGV[1], (last + 1) .. '|' .. ARGV[2]) end
return {'appended', tostring(last + n)}
`;
