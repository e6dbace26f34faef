/**
 * Lua shared by every script (Redis has no `include`, so each script is its header comment, this
 * block, then its own body). It mirrors `src/core/transitions.ts` function by function; keep them
 * in step. Conventions:
 *
 * - Time is Redis server time (`TIME`, epoch ms), never a client clock, so a fleet agrees on it.
 * - KEYS[1] is the connection's state hash, KEYS[2] its trial-lease sorted set (same hash tag).
 * - Numbers are written and replied as `%.17g` strings: Lua numbers are doubles, and a Lua
 *   number in a reply would be truncated to an integer (expiries may be fractional ms).
 * - A `null` field is absent from the hash and `false` (a nil bulk) in a reply.
 * - Every transition bumps `generation` and drops all trial leases, like the core's `NO_TRIALS`.
 * - Keys expire at `lastActivityAt + ttlMs` (PEXPIREAT; ttlMs 0 = never), so Redis forgets a
 *   connection exactly when the cleanup sweep of a memory store would.
 * - The last four ARGV of every script are the announcement tail (ANNOUNCE_DOC): scripts that
 *   change shared state PUBLISH the change, with the common reply, so every process can apply it.
 *
 * The reply shape is REPLY_DOC below (spliced into each script's header).
 */
/** The common reply, as Lua comment text for the header of every script that returns it. */
export const REPLY_DOC = `
  Reply (every script except delete), a fixed-order array of strings or nils:
    [1] now (server ms)  [2] found: '1' ('0' = no such connection, and the reply ends here)
    [3] expired: '1' when this call settled open → half_open (dated at the old openUntil)
    [4] from: the state the operation applied to (after that settle)
    [5] transitioned: '1' when the operation itself changed the state
    [6] flag: register → created, acquire_trial → admitted, else '0'
    [7] retryAfter ms (acquire_trial when refused, else '0')
    [8] state  [9] failureCount  [10] openedAt  [11] openUntil  [12] openings
    [13] changedAt  [14] generation  [15] totalFailures  [16] totalSuccesses
    [17] lastFailureTime  [18] lastFailureReason  [19] lastSuccessTime  [20] registeredAt
    [21] lastActivityAt  [22] options (JSON)  [23] metadata (JSON)  (= FIELDS, in order;
    nil when null)  [24] live (unexpired) trial leases`;

/** The announcement tail, as Lua comment text for script headers. */
export const ANNOUNCE_DOC = `
  ARGV[#ARGV-3] channel  [#ARGV-2] source (the announcing process)
  ARGV[#ARGV-1] identifier  [#ARGV] scope ('' = none)
  Announces on the channel: JSON { source, kind, identifier, scope?, reason?, reply }, where
  reply is this script's reply (nils as false) and kind the operation, or 'expire' when the
  script only recorded the lazy open → half_open transition.`;

export const COMMON_LUA = `
if redis.replicate_commands then redis.replicate_commands() end

local FIELDS = { 'state', 'failureCount', 'openedAt', 'openUntil', 'openings', 'changedAt',
  'generation', 'totalFailures', 'totalSuccesses', 'lastFailureTime', 'lastFailureReason',
  'lastSuccessTime', 'registeredAt', 'lastActivityAt', 'options', 'metadata' }
local TEXT = { state = true, lastFailureReason = true, options = true, metadata = true }

local function num(v) return string.format('%.17g', v) end

local function server_now()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- c.was / c.text: the values as loaded (numbers) and as stored (strings), so save() writes only
-- what changed and reply() returns stored strings as they are: formatting a number costs about
-- 1 µs in Redis' Lua, and a report changes 3 of 16 fields.
local function load()
  local raw = redis.call('HGETALL', KEYS[1])
  if #raw == 0 then return nil end
  local c, was, text = {}, {}, {}
  for i = 1, #raw, 2 do
    local f, v = raw[i], raw[i + 1]
    text[f] = v
    if TEXT[f] then c[f] = v else c[f] = tonumber(v) end
    was[f] = c[f]
  end
  c.was, c.text = was, text
  return c
end

-- A field's value as a reply or hash string.
local function out(c, f)
  local v = c[f]
  if c.was ~= nil and v == c.was[f] then return c.text[f] end
  if TEXT[f] then return v end
  return num(v)
end

-- Effective settings: ARGV[i .. i+7] in CIRCUIT_OPTION_KEYS order.
local function settings(i)
  return { maxAttempts = tonumber(ARGV[i]), expiry = tonumber(ARGV[i + 1]),
    expiryStrategy = ARGV[i + 2], initialExpiry = tonumber(ARGV[i + 3]),
    maxExpiry = tonumber(ARGV[i + 4]), backoffFactor = tonumber(ARGV[i + 5]),
    halfOpenProbes = tonumber(ARGV[i + 6]), probeTimeout = tonumber(ARGV[i + 7]) }
end

-- backoff.ts openPeriod
local function open_period(s, n)
  if s.expiryStrategy == 'progressive' then
    return math.min(s.maxExpiry, s.initialExpiry * s.backoffFactor ^ math.max(0, n - 1))
  end
  return s.expiry
end

local function bump(c)
  c.generation = c.generation + 1
  c.clear_trials = true
end

-- transitions.ts settle, plus memory-store's lastActivityAt bookkeeping
local function settle(c, now)
  if c.state ~= 'open' or c.openUntil == nil or now < c.openUntil then return false end
  c.state = 'half_open'
  c.changedAt = c.openUntil
  c.openUntil = nil
  bump(c)
  c.lastActivityAt = math.max(c.lastActivityAt, c.changedAt)
  return true
end

-- transitions.ts opened
local function opened(c, s, now, expiry)
  if c.state ~= 'open' then
    c.openings = c.openings + 1
    c.changedAt = now
  end
  c.state = 'open'
  c.openedAt = now
  c.openUntil = now + (expiry or open_period(s, c.openings))
  bump(c)
end

-- transitions.ts closed
local function closed(c, now)
  if c.state ~= 'closed' then c.changedAt = now end
  c.state = 'closed'
  c.failureCount = 0
  c.openUntil = nil
  c.openings = 0
  bump(c)
end

local function save(c)
  local set, del = {}, {}
  local was = c.was or {}
  for _, f in ipairs(FIELDS) do
    local v = c[f]
    if v == nil then
      if was[f] ~= nil then del[#del + 1] = f end
    elseif v ~= was[f] then
      set[#set + 1] = f
      set[#set + 1] = out(c, f)
    end
  end
  if #set > 0 then redis.call('HSET', KEYS[1], unpack(set)) end
  if #del > 0 then redis.call('HDEL', KEYS[1], unpack(del)) end
  if c.clear_trials then
    redis.call('DEL', KEYS[2])
    c.clear_trials = false
  end
end

local function expire(c, ttl)
  if ttl > 0 then
    local at = num(math.floor(c.lastActivityAt + ttl))
    redis.call('PEXPIREAT', KEYS[1], at)
    redis.call('PEXPIREAT', KEYS[2], at)
  else
    redis.call('PERSIST', KEYS[1])
    redis.call('PERSIST', KEYS[2])
  end
end

local function persist(c, ttl)
  save(c)
  expire(c, ttl)
end

local function missing(now) return { num(now), '0' } end

local function announce(kind, reason, r)
  local n = #ARGV
  local msg = { source = ARGV[n - 2], kind = kind, identifier = ARGV[n - 1], reply = r }
  if ARGV[n] ~= '' then msg.scope = ARGV[n] end
  if reason ~= nil and reason ~= '' then msg.reason = reason end
  redis.call('PUBLISH', ARGV[n - 3], cjson.encode(msg))
end

local function reply(now, c, expired, from, transitioned, flag, retry)
  local r = { num(now), '1', expired and '1' or '0', from, transitioned and '1' or '0',
    flag and '1' or '0', num(retry) }
  for _, f in ipairs(FIELDS) do
    if c[f] == nil then r[#r + 1] = false else r[#r + 1] = out(c, f) end
  end
  r[#r + 1] = num(redis.call('ZCOUNT', KEYS[2], '(' .. num(now), '+inf'))
  return r
end
`;
