import { COMMON_LUA, REPLY_DOC, TAIL_DOC } from './common.js';
import { CREATE_LUA } from './register.js';

/** Lua of `sync`. */
export const SYNC_LUA = `
--[[
  sync: what a process sends for each connection when Redis answers again after an outage (or
  when Redis answered "no such connection"): it recreates a connection Redis has lost from what
  the process knew, and adds the outcomes the process counted while it could not reach Redis.

  - Redis still holds the connection and it was not rebuilt: Redis' state wins; the outcomes
    counted while degraded are added to the totals only (stale failures never trip it).
  - Redis lost it (restarted empty, flushed, evicted, expired): it is rebuilt from the seed.
    While nothing has moved a rebuilt connection since (no transition, no manual action), each
    process's seed merges in, in any order with the same result: the most severe state wins
    (open > half_open > closed > unknown; of two open periods the one ending later), with the
    higher consecutive failure count and openings; the totals are the highest totals any process
    last saw in Redis plus what every process counted while degraded.

  KEYS[1] state hash   KEYS[2] trial-lease sorted set   KEYS[3] rate window
  ARGV[1] ttlMs
  ARGV[2] the connection's own options, JSON (only used when creating)
  ARGV[3] metadata, JSON (only used when creating)
  ARGV[4] seed, JSON or '': the process's view in server time. Keys: born (the registeredAt of
          the connection the view last loaded, -1 for none), state, failureCount, openedAt,
          openUntil, openings, changedAt, totalFailures, totalSuccesses (as last seen in Redis,
          without the delta), lastFailureTime, lastFailureReason, lastSuccessTime
          (absent = null)
  ARGV[5] delta, JSON or '': outcomes counted while degraded. Keys: successes, failures,
          lastFailureTime, lastFailureReason, lastSuccessTime (server time)
${TAIL_DOC}
  Announces (kind 'sync') whenever it changed the connection; when it changed nothing, it is a
  read (not activity).

  Reply: the common reply; [6] = '1' when this call created the connection.
${REPLY_DOC}
]]
${COMMON_LUA}
${CREATE_LUA}
local SEVERITY = { unknown = 0, closed = 1, half_open = 2, open = 3 }
local SEEDED = { 'failureCount', 'openings', 'lastFailureTime', 'lastSuccessTime' }

local function number_or_nil(v) if type(v) == 'number' then return v end return nil end

local function later_failure(c, at, text)
  if at ~= nil and (c.lastFailureTime == nil or at > c.lastFailureTime) then
    c.lastFailureTime = at
    if type(text) == 'string' then c.lastFailureReason = text else c.lastFailureReason = nil end
  end
end

local function later_success(c, at)
  if at ~= nil and (c.lastSuccessTime == nil or at > c.lastSuccessTime) then c.lastSuccessTime = at end
end

-- A seed's totals are what its process last saw in Redis: raise the rebuilt totals to the
-- highest such value (the outcomes counted while degraded come separately, in the delta).
local function merge_totals(c, seed)
  local f, s = number_or_nil(seed.totalFailures) or 0, number_or_nil(seed.totalSuccesses) or 0
  if f > (c.baseFailures or 0) then
    c.totalFailures = c.totalFailures + f - (c.baseFailures or 0)
    c.baseFailures = f
  end
  if s > (c.baseSuccesses or 0) then
    c.totalSuccesses = c.totalSuccesses + s - (c.baseSuccesses or 0)
    c.baseSuccesses = s
  end
end

local function merge_state(c, seed, now)
  local state = seed.state
  if SEVERITY[state] == nil then return end
  local openUntil = number_or_nil(seed.openUntil)
  if state == 'open' and openUntil == nil then openUntil = now end
  local stronger = SEVERITY[state] > SEVERITY[c.state]
  local longer = state == 'open' and c.state == 'open' and openUntil > c.openUntil
  if stronger or longer then
    c.state = state
    c.openedAt = number_or_nil(seed.openedAt) or c.openedAt
    if state == 'open' then c.openUntil = openUntil else c.openUntil = nil end
    c.changedAt = math.min(number_or_nil(seed.changedAt) or now, now)
    -- A change of state without bump(): the connection is still being rebuilt.
    c.generation = c.generation + 1
    c.clear_trials = true
  end
  for _, f in ipairs(SEEDED) do
    local v = number_or_nil(seed[f])
    if v ~= nil and (c[f] == nil or v > c[f]) then
      if f == 'lastFailureTime' then later_failure(c, v, seed.lastFailureReason) else c[f] = v end
    end
  end
end

local now, ttl, c = begin()
local seed, delta = nil, nil
if ARGV[4] ~= '' then seed = cjson.decode(ARGV[4]) end
if ARGV[5] ~= '' then delta = cjson.decode(ARGV[5]) end
if c ~= nil and duplicate() then return reply(now, c, false, c.state, false, false, 0, false, true) end
local created, expired, from = false, false, 'unknown'
local before = nil
if c == nil then
  c = create(now, ARGV[2], ARGV[3])
  created = true
  if seed ~= nil then
    c.rebuilt, c.baseFailures, c.baseSuccesses = 1, 0, 0
    merge_state(c, seed, now)
    merge_totals(c, seed)
  end
else
  expired = settle(c, now)
  from = c.state
  before = cjson.encode({ c.state, c.generation, c.totalFailures, c.totalSuccesses,
    c.failureCount, c.openings, c.lastFailureTime or false, c.lastSuccessTime or false })
  -- A seed merges only if its process had not seen this (rebuilt) connection yet: what a view
  -- holds after seeing it already includes the merged state.
  if seed ~= nil and c.rebuilt == 1 and seed.born ~= c.registeredAt then
    merge_state(c, seed, now)
    merge_totals(c, seed)
  end
end
if delta ~= nil then
  c.totalFailures = c.totalFailures + (number_or_nil(delta.failures) or 0)
  c.totalSuccesses = c.totalSuccesses + (number_or_nil(delta.successes) or 0)
  later_failure(c, number_or_nil(delta.lastFailureTime), delta.lastFailureReason)
  later_success(c, number_or_nil(delta.lastSuccessTime))
end
-- An open period that ended while Redis did not hold the connection ends now; that lazy
-- change does not end the rebuild.
local rebuilt, baseFailures, baseSuccesses = c.rebuilt, c.baseFailures, c.baseSuccesses
if settle(c, now) then
  expired = true
  c.rebuilt, c.baseFailures, c.baseSuccesses = rebuilt, baseFailures, baseSuccesses
end
local changed = created or expired or before ~= cjson.encode({ c.state, c.generation,
  c.totalFailures, c.totalSuccesses, c.failureCount, c.openings, c.lastFailureTime or false,
  c.lastSuccessTime or false })
if not changed then
  -- Nothing to add or rebuild: a plain read (not activity), still recorded as applied.
  applied(now)
  return reply(now, c, false, from, false, false, 0, false, false)
end
c.lastActivityAt = math.max(c.lastActivityAt, now)
c.version = c.version + 1
announcing(c, now)
persist(c, ttl, now)
local r = reply(now, c, expired, from, c.state ~= from, created, 0, true, false)
announce('sync', nil, r)
return r
`;
