import { COMMON_LUA, REPLY_DOC, SETTINGS_DOC, TAIL_DOC } from './common.js';

/** Lua of `acquire_trial`. */
export const ACQUIRE_TRIAL_LUA = `
--[[
  acquire_trial: may a call go ahead now (transitions.ts admit + retryAfter), fleet-wide.
  Settles first. 'unknown'/'closed': admitted, no lease taken. 'open': refused until
  openUntil. 'half_open': drops expired leases (score <= now), then admits and leases the
  token while fewer than halfOpenProbes remain. Not activity.

  A process leases ahead of its callers and hands the lease to a call up to ARGV[4] ms later,
  so the lease lives now + ARGV[4] + probeTimeout; touch_trial sets it to admission +
  probeTimeout when a call takes it, and an unused lease is given back (report 'ignore').

  KEYS[1] state hash   KEYS[2] trial-lease sorted set   KEYS[3] rate window
  ARGV[1] ttlMs
  ARGV[2] effective settings, one string (below)
  ARGV[3] lease token (unique per attempt)
  ARGV[4] hold ms: how long the process may keep the lease before handing it to a call
${TAIL_DOC}
${SETTINGS_DOC}
  Announces (kind 'expire') only when it recorded the lazy open → half_open transition.

  Reply: the common reply; [6] = '1' when admitted, [7] = ms until a call
  could be admitted when refused.
${REPLY_DOC}
]]
${COMMON_LUA}
local now, ttl, c = begin()
if c == nil then return missing(now) end
local s = settings(2)
local token, hold = ARGV[3], tonumber(ARGV[4])
local expired = settle(c, now)
if expired then
  c.version = c.version + 1
  announcing(c, now)
  persist(c, ttl, now)
end
local admitted, retry = false, 0
if c.state == 'unknown' or c.state == 'closed' then
  admitted = true
elseif c.state == 'open' then
  if c.openUntil ~= nil then retry = math.max(0, c.openUntil - now) end
else
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', num(now))
  if redis.call('ZCARD', KEYS[2]) < s.halfOpenProbes then
    redis.call('ZADD', KEYS[2], num(now + hold + s.probeTimeout), token)
    expire(c, ttl)
    admitted = true
  else
    local first = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
    retry = math.max(0, tonumber(first[2]) - now)
  end
end
local r = reply(now, c, expired, c.state, false, admitted, retry, expired, false)
if expired then announce('expire', nil, r) end
return r
`;
