import { ANNOUNCE_DOC, COMMON_LUA, REPLY_DOC } from './common.js';

/** Lua of `report`. */
export const REPORT_LUA = `
--[[
  report: applies one outcome atomically: settle, then transitions.ts onSuccess / onFailure /
  onIgnored, plus the counters of memory-store's report. A success or failure is activity
  (lastActivityAt = now); an ignored result is not.

  KEYS[1] state hash            KEYS[2] trial-lease sorted set
  ARGV[1] ttlMs
  ARGV[2..9] effective settings: maxAttempts, expiry, expiryStrategy, initialExpiry,
             maxExpiry, backoffFactor, halfOpenProbes, probeTimeout
  ARGV[10] outcome: 'success' | 'failure' | 'ignore'
  ARGV[11] failure reason: '' for none, else '=' followed by the text
  ARGV[12] trial lease token to release, '' for none. 'ignore' without a token frees the
           oldest lease (the core's onIgnored); with one, exactly that lease.
  ARGV[13] fence: the generation the reporting call was admitted in, '' for none. A result
           from an older generation (a trial whose half-open period has ended, a call that
           started before the circuit tripped) is counted in the totals but changes no state.
${ANNOUNCE_DOC}
  Announces when the outcome changed the state (kind = the outcome) or only settled it
  (kind 'expire').

  Reply: the common reply. [5] transitioned = '1' only for the one call whose
  outcome changed the state, so exactly one reporter sees a trip.
${REPLY_DOC}
]]
${COMMON_LUA}
local now = server_now()
local ttl = tonumber(ARGV[1])
local s = settings(2)
local outcome, reason, token, fence = ARGV[10], ARGV[11], ARGV[12], tonumber(ARGV[13])
local c = load()
if c == nil then return missing(now) end
local expired = settle(c, now)
local from = c.state
local stale = fence ~= nil and fence ~= c.generation
if stale and outcome ~= 'ignore' then
  -- Counted, but a late result cannot move a newer state.
  if outcome == 'success' then
    c.totalSuccesses = c.totalSuccesses + 1
    c.lastSuccessTime = now
  else
    c.totalFailures = c.totalFailures + 1
    c.lastFailureTime = now
    if reason == '' then c.lastFailureReason = nil else c.lastFailureReason = string.sub(reason, 2) end
  end
  c.lastActivityAt = now
elseif outcome == 'success' then
  c.totalSuccesses = c.totalSuccesses + 1
  c.lastSuccessTime = now
  c.lastActivityAt = now
  if from == 'closed' then
    c.failureCount = 0
  elseif from == 'unknown' or from == 'half_open' then
    closed(c, now)
  end
elseif outcome == 'failure' then
  c.totalFailures = c.totalFailures + 1
  c.lastFailureTime = now
  if reason == '' then c.lastFailureReason = nil else c.lastFailureReason = string.sub(reason, 2) end
  c.lastActivityAt = now
  if from == 'unknown' or from == 'closed' then
    c.failureCount = c.failureCount + 1
    if c.failureCount >= s.maxAttempts then
      opened(c, s, now, nil)
    elseif from == 'unknown' then
      c.state = 'closed'
      c.changedAt = now
      bump(c)
    end
  elseif from == 'half_open' then
    c.failureCount = c.failureCount + 1
    opened(c, s, now, nil)
  end
elseif outcome == 'ignore' then
  if token == '' and from == 'half_open' then redis.call('ZPOPMIN', KEYS[2]) end
else
  return redis.error_reply('ERR brama report: unknown outcome ' .. outcome)
end
if token ~= '' then redis.call('ZREM', KEYS[2], token) end
persist(c, ttl)
local r = reply(now, c, expired, from, c.state ~= from, false, 0)
if c.state ~= from then announce(outcome, string.sub(reason, 2), r)
elseif expired then announce('expire', nil, r) end
return r
`;
