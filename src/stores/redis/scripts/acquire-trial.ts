import { ANNOUNCE_DOC, COMMON_LUA, REPLY_DOC } from './common.js';

/** Lua of `acquire_trial`. */
export const ACQUIRE_TRIAL_LUA = `
--[[
  acquire_trial: may a call go ahead now (transitions.ts admit + retryAfter), fleet-wide.
  Settles first. 'unknown'/'closed': admitted, no lease taken. 'open': refused until
  openUntil. 'half_open': drops expired leases (score <= now), then admits and leases the
  token (score now + probeTimeout) while fewer than halfOpenProbes remain. Not activity.

  KEYS[1] state hash            KEYS[2] trial-lease sorted set
  ARGV[1] ttlMs
  ARGV[2..9] effective settings (see report)
  ARGV[10] lease token (unique per attempt)
${ANNOUNCE_DOC}
  Announces (kind 'expire') only when it recorded the lazy open → half_open transition.

  Reply: the common reply; [6] = '1' when admitted, [7] = ms until a call
  could be admitted when refused.
${REPLY_DOC}
]]
${COMMON_LUA}
local now = server_now()
local ttl = tonumber(ARGV[1])
local s = settings(2)
local token = ARGV[10]
local c = load()
if c == nil then return missing(now) end
local expired = settle(c, now)
if expired then persist(c, ttl) end
local admitted, retry = false, 0
if c.state == 'unknown' or c.state == 'closed' then
  admitted = true
elseif c.state == 'open' then
  if c.openUntil ~= nil then retry = math.max(0, c.openUntil - now) end
else
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', num(now))
  if redis.call('ZCARD', KEYS[2]) < s.halfOpenProbes then
    redis.call('ZADD', KEYS[2], num(now + s.probeTimeout), token)
    expire(c, ttl)
    admitted = true
  else
    local first = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
    retry = math.max(0, tonumber(first[2]) - now)
  end
end
local r = reply(now, c, expired, c.state, false, admitted, retry)
if expired then announce('expire', nil, r) end
return r
`;
