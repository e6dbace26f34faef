import { COMMON_LUA, REPLY_DOC, TAIL_DOC } from './common.js';

/** Lua of `report`. */
export const REPORT_LUA = `
--[[
  report: applies one outcome atomically: settle, then transitions.ts onSuccess / onFailure /
  onIgnored, plus the counters of memory-store's report. A success or failure is activity
  (lastActivityAt = now); an ignored result is not.

  KEYS[1] state hash   KEYS[2] trial-lease sorted set   KEYS[3] applied sequence numbers
  ARGV[1] ttlMs
  ARGV[2..9] effective settings: maxAttempts, expiry, expiryStrategy, initialExpiry,
             maxExpiry, backoffFactor, halfOpenProbes, probeTimeout
  ARGV[10] outcome: 'success' | 'failure' | 'ignore'
  ARGV[11] failure reason: '' for none, else '=' followed by the text
  ARGV[12] trial lease token to release, '' for none. 'ignore' without a token frees the
           oldest lease (the core's onIgnored); with one, exactly that lease.
  ARGV[13] fence: the generation the reporting trial was admitted in, '' for none. A trial's
           result that arrives in a later half-open period (its own has ended) is counted in
           the totals but cannot decide the new period. In any other state the outcome applies
           as usual, as with the memory store.
  ARGV[14] mode: '' to apply the outcome, 'totals' to count it in the totals only (an outcome
           replayed after an outage must not move a state the fleet has moved on from)
  ARGV[15] announce interval ms: a report that changes no state still announces the
           connection when the last announcement is at least this old
${TAIL_DOC}
  Announces when the outcome changed the state (kind = the outcome), when it only settled it
  (kind 'expire'), or, with kind 'refresh', when the last announcement is older than ARGV[15].

  Reply: the common reply. [5] transitioned = '1' only for the one call whose
  outcome changed the state, so exactly one reporter sees a trip.
${REPLY_DOC}
]]
${COMMON_LUA}
local now, ttl, c = begin()
if c == nil then return missing(now) end
local s = settings(2)
local outcome, reason, token, fence = ARGV[10], ARGV[11], ARGV[12], tonumber(ARGV[13])
local totals_only, every = ARGV[14] == 'totals', tonumber(ARGV[15])
if duplicate() then return reply(now, c, false, c.state, false, false, 0, false, true) end
local expired = settle(c, now)
local from = c.state
local counts = outcome ~= 'ignore'
if counts and not (outcome == 'success' or outcome == 'failure') then
  return redis.error_reply('ERR brama report: unknown outcome ' .. outcome)
end
local decides = not totals_only and not (fence ~= nil and fence ~= c.generation and from == 'half_open')
if outcome == 'success' then
  c.totalSuccesses = c.totalSuccesses + 1
  c.lastSuccessTime = now
  c.lastActivityAt = now
  if decides then
    if from == 'closed' then
      c.failureCount = 0
    elseif from == 'unknown' or from == 'half_open' then
      closed(c, now)
    end
  end
elseif outcome == 'failure' then
  c.totalFailures = c.totalFailures + 1
  c.lastFailureTime = now
  if reason == '' then c.lastFailureReason = nil else c.lastFailureReason = string.sub(reason, 2) end
  c.lastActivityAt = now
  if decides then
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
  end
elseif token == '' and from == 'half_open' then
  redis.call('ZPOPMIN', KEYS[2])
end
if token ~= '' then redis.call('ZREM', KEYS[2], token) end
local moved = c.state ~= from
local kind = nil
if counts or expired then c.version = c.version + 1 end
if moved then kind = outcome
elseif expired then kind = 'expire'
elseif counts and now - (c.announcedAt or 0) >= every then kind = 'refresh' end
if kind ~= nil then announcing(c, now) end
persist(c, ttl, now)
local r = reply(now, c, expired, from, moved, false, 0, kind ~= nil, false)
if kind ~= nil then announce(kind, moved and string.sub(reason, 2) or nil, r) end
return r
`;
