import { FIELDS, HIDDEN, luaList, PRELUDE_LUA } from './prelude.js';

/**
 * Lua shared by every script (Redis has no `include`, so each script is its header comment, the
 * prelude (prelude.ts), this block, then its own body; scripts with a lean path run it between
 * the prelude and this block). It mirrors `src/core/transitions.ts` function by function; keep them
 * in step. Conventions:
 *
 * - Time is Redis server time (`TIME`, epoch ms), never a client clock, so a fleet agrees on it.
 * - KEYS[1] is the connection's state hash, KEYS[2] its trial-lease sorted set, KEYS[3] the
 *   outcomes of its `'rate'` count window (same hash tag: one cluster slot). The hash also holds,
 *   per process, the last command sequence number applied (field `s:<source>`).
 * - Numbers are written and replied as `%.17g` strings: Lua numbers are doubles, and a Lua
 *   number in a reply would be truncated to an integer (expiries may be fractional ms).
 * - A `null` field is absent from the hash and `false` (a nil bulk) in a reply.
 * - Every transition bumps `generation` and drops all trial leases, like the core's `NO_TRIALS`;
 *   every change of the hash bumps `version`, which orders the states a process sees.
 * - Keys expire between `max(lastActivityAt, openUntil) + ttlMs` and 1/16 ttlMs later (PEXPIREAT;
 *   ttlMs 0 = never): Redis forgets a connection about when the cleanup sweep of a memory store
 *   would, but never while it is open (an open period longer than the TTL must not lose the
 *   circuit). The slack lets most reports leave the expiry as it is (`expiresAt` in the hash).
 * - Exactly once: a command that changes state carries the sending process's sequence number;
 *   a number at or below the last one applied for that process is a resend (ioredis resends
 *   unanswered commands after a reconnect) and changes nothing.
 * - The last four ARGV of every script are the common tail (TAIL_DOC): scripts that change
 *   shared state PUBLISH the change, with the common reply, so every process can apply it.
 *
 * The reply shape is REPLY_DOC below (spliced into each script's header).
 */
/** The common reply, as Lua comment text for the header of every script that returns it. */
export const REPLY_DOC = `
  Reply (every script except delete and touch_trial), a fixed-order array of strings or nils:
    [1] now (server ms)  [2] found: '1' ('0' = no such connection, and the reply ends here)
    [3] expired: '1' when this call settled open → half_open (dated at the old openUntil)
    [4] from: the state the operation applied to (after that settle)
    [5] transitioned: '1' when the operation itself changed the state
    [6] flag: register/sync → created, acquire_trial → admitted, else '0'
    [7] retryAfter ms (acquire_trial when refused, else '0')
    [8] announced: '1' when this call published the connection's state
    [9] duplicate: '1' when the command was a resend and changed nothing
    [10] state  [11] failureCount  [12] openedAt  [13] openUntil  [14] openings
    [15] changedAt  [16] generation  [17] version  [18] totalFailures  [19] totalSuccesses
    [20] lastFailureTime  [21] lastFailureReason  [22] lastSuccessTime  [23] registeredAt
    [24] lastActivityAt  [25] options (JSON)  [26] metadata (JSON)  (= FIELDS, in order;
    nil when null)  [27] live (unexpired) trial leases`;

/**
 * The effective settings argument of report, acquire_trial and act (commands.ts builds it): one
 * string, the values separated by single spaces in this order (maxAttempts and tripPolicy first:
 * the report's lean path reads only those).
 */
export const SETTINGS_DOC = `
  Settings: maxAttempts tripPolicy expiry expiryStrategy initialExpiry maxExpiry backoffFactor
    halfOpenProbes probeTimeout failureRateThreshold slowCalls ('1' when a slow-call threshold
    is set, else '0') slowCallRateThreshold windowKind ('calls' | 'ms') windowSize minimumCalls
    successThreshold rampUpMs`;

/** The common tail of ARGV, as Lua comment text for script headers. */
export const TAIL_DOC = `
  ARGV[#ARGV-3] channel  [#ARGV-2] source (the calling process)
  ARGV[#ARGV-1] tag (the connection's escaped hash tag, as in its keys)
  ARGV[#ARGV] sequence number of this command for its source, '' for none (not deduplicated)
  Announces on the channel: JSON { source, kind, tag, reason?, reply } (source first), where
  reply is this script's reply (nils as false) and kind the operation, or 'expire' when the
  script only recorded the lazy open → half_open transition.`;

/**
 * The shared definitions, after the prelude: scripts with a lean path run it between the two,
 * so that a lean call does not build these.
 */
export const SHARED_LUA = `
local FIELDS = ${luaList(FIELDS)}
local HIDDEN = ${luaList(HIDDEN)}
local TEXT = { state = true, lastFailureReason = true, options = true, metadata = true,
  trip = true, wshape = true, w0 = true, w1 = true, w2 = true, w3 = true, w4 = true, w5 = true,
  w6 = true, w7 = true, w8 = true, w9 = true }
local BUCKETS = 10

-- c.was / c.text: the values as loaded (numbers) and as stored (strings), so save() writes only
-- what changed and reply() returns stored strings as they are: formatting a number costs about
-- 1 µs in Redis' Lua, and a report changes 3 of 17 fields.
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
  if c.version == nil then c.version = 0 end
  c.was, c.text = was, text
  return c
end

-- now, ttl and the loaded connection (nil when absent): how every script starts.
local function begin()
  return server_now(), tonumber(ARGV[1]), load()
end

-- A field's value as a reply or hash string.
local function out(c, f)
  local v = c[f]
  if c.was ~= nil and v == c.was[f] then return c.text[f] end
  if TEXT[f] then return v end
  return num(v)
end

-- Effective settings: ARGV[i], the values of SETTINGS_DOC separated by spaces.
local function settings(i)
  local v, n = {}, 0
  for word in string.gmatch(ARGV[i], '%S+') do
    n = n + 1
    v[n] = word
  end
  return { maxAttempts = tonumber(v[1]), tripPolicy = v[2], expiry = tonumber(v[3]),
    expiryStrategy = v[4], initialExpiry = tonumber(v[5]), maxExpiry = tonumber(v[6]),
    backoffFactor = tonumber(v[7]), halfOpenProbes = tonumber(v[8]),
    probeTimeout = tonumber(v[9]), failureRateThreshold = tonumber(v[10]),
    slowCalls = v[11] == '1', slowCallRateThreshold = tonumber(v[12]), windowKind = v[13],
    windowSize = tonumber(v[14]), minimumCalls = tonumber(v[15]),
    successThreshold = tonumber(v[16]), rampUpMs = tonumber(v[17]) }
end

-- backoff.ts openPeriod
local function open_period(s, n)
  if s.expiryStrategy == 'progressive' then
    return math.min(s.maxExpiry, s.initialExpiry * s.backoffFactor ^ math.max(0, n - 1))
  end
  return s.expiry
end

-- A transition: a new generation, no trial leases, and the end of a rebuild (the fleet's live
-- state now wins over what reconnecting processes remember).
local function bump(c)
  c.generation = c.generation + 1
  c.clear_trials = true
  c.trialSuccesses = 0
  c.rebuilt, c.baseFailures, c.baseSuccesses = nil, nil, nil
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
  c.rampFrom = nil
  bump(c)
end

-- The 'rate' policy's window (core/window.ts): counters wcalls/wfailures/wslow in the hash;
-- a count window keeps one digit per outcome (1: failed, 2: slow, added) in KEYS[3], written
-- with SETRANGE at wnext; a time window keeps ten buckets w0..w9 'index:calls:failures:slow'.
local function window_clear(c)
  c.wcalls, c.wfailures, c.wslow, c.wnext = nil, nil, nil, nil
  for i = 0, BUCKETS - 1 do c['w' .. i] = nil end
  c.clear_window = true
end

-- transitions.ts closed (rampFrom: when a ramp-up begins, nil for none); a circuit that closes
-- after being open or half-open empties its window.
local function closed(c, now, rampFrom)
  if c.state ~= 'closed' then c.changedAt = now end
  if c.state == 'open' or c.state == 'half_open' or c.state == 'closed' then window_clear(c) end
  c.state = 'closed'
  c.failureCount = 0
  c.openUntil = nil
  c.openings = 0
  c.rampFrom = rampFrom
  bump(c)
end

local function window_shape(s) return s.windowKind .. ':' .. num(s.windowSize) end

-- One time bucket's fields, or nil when the value is not one.
local function bucket_of(v)
  if v == nil then return nil end
  local index, calls, failures, slow = string.match(v, '^(-?%d+):(%d+):(%d+):(%d+)$')
  if index == nil then return nil end
  return tonumber(index), tonumber(calls), tonumber(failures), tonumber(slow)
end

-- Drops the time buckets that have left the window by now.
local function window_advance(c, s, now)
  if s.windowKind ~= 'ms' then return end
  local oldest = math.floor(now / (s.windowSize / BUCKETS)) - (BUCKETS - 1)
  for i = 0, BUCKETS - 1 do
    local field = 'w' .. i
    if c[field] ~= nil then
      local index, calls, failures, slows = bucket_of(c[field])
      if index == nil or index < oldest then
        c.wcalls = (c.wcalls or 0) - (calls or 0)
        c.wfailures = (c.wfailures or 0) - (failures or 0)
        c.wslow = (c.wslow or 0) - (slows or 0)
        c[field] = nil
      end
    end
  end
end

-- Records one outcome of an unknown or closed circuit (window.ts add).
local function window_add(c, s, failed, slow, now)
  if c.wshape ~= window_shape(s) then
    window_clear(c)
    c.wshape = window_shape(s)
  end
  c.wcalls, c.wfailures, c.wslow = c.wcalls or 0, c.wfailures or 0, c.wslow or 0
  local f, w = failed and 1 or 0, slow and 1 or 0
  if s.windowKind == 'calls' then
    local at = c.wnext or 0
    if c.wcalls >= s.windowSize then
      local old = tonumber(redis.call('GETRANGE', KEYS[3], at, at)) or 0
      c.wfailures = c.wfailures - old % 2
      c.wslow = c.wslow - math.floor(old / 2)
    else
      c.wcalls = c.wcalls + 1
    end
    redis.call('SETRANGE', KEYS[3], at, tostring(f + 2 * w))
    c.wnext = (at + 1) % s.windowSize
    c.clear_window = false
  else
    window_advance(c, s, now)
    local bucket = math.floor(now / (s.windowSize / BUCKETS))
    local field = 'w' .. (bucket % BUCKETS)
    local index, calls, failures, slows = bucket_of(c[field])
    if index ~= bucket then
      -- An older bucket in this slot leaves the window (window_advance usually did it).
      if index ~= nil then
        c.wcalls = c.wcalls - calls
        c.wfailures = c.wfailures - failures
        c.wslow = c.wslow - slows
      end
      calls, failures, slows = 0, 0, 0
    end
    c[field] = num(bucket) .. ':' .. num(calls + 1) .. ':' .. num(failures + f) .. ':' .. num(slows + w)
    c.wcalls = c.wcalls + 1
  end
  c.wfailures = c.wfailures + f
  c.wslow = c.wslow + w
end

-- rate-policy.ts rateTrip: the rule that opens the circuit, as the JSON events carry, or nil.
local function rate_trip(c, s)
  local calls = c.wcalls or 0
  if calls < s.minimumCalls or calls == 0 then return nil end
  local failures = (c.wfailures or 0) / calls
  if failures >= s.failureRateThreshold then
    return cjson.encode({ rule = 'failure_rate', rate = failures,
      threshold = s.failureRateThreshold, calls = calls })
  end
  if not s.slowCalls then return nil end
  local slow = (c.wslow or 0) / calls
  if slow >= s.slowCallRateThreshold then
    return cjson.encode({ rule = 'slow_call_rate', rate = slow,
      threshold = s.slowCallRateThreshold, calls = calls })
  end
  return nil
end

local function save_fields(c, list, set, del)
  local was = c.was or {}
  for _, f in ipairs(list) do
    local v = c[f]
    if v == nil then
      if was[f] ~= nil then del[#del + 1] = f end
    elseif v ~= was[f] then
      set[#set + 1] = f
      set[#set + 1] = out(c, f)
    end
  end
end

local function save(c)
  local set, del = {}, {}
  save_fields(c, FIELDS, set, del)
  save_fields(c, HIDDEN, set, del)
  if #set > 0 then redis.call('HSET', KEYS[1], unpack(set)) end
  if #del > 0 then redis.call('HDEL', KEYS[1], unpack(del)) end
  if c.clear_trials then
    redis.call('DEL', KEYS[2])
    c.clear_trials = false
  end
  if c.clear_window then
    redis.call('DEL', KEYS[3])
    c.clear_window = false
  end
end

-- When the keys should expire: at the latest of last activity and the end of an open period,
-- plus the TTL and a slack, so that reports in between need not move it (nil: never).
local function expiry_of(c, ttl)
  if ttl <= 0 then return nil end
  local base = math.max(c.lastActivityAt, c.openUntil or 0) + ttl
  return math.floor(base + ttl / 16)
end

-- Moves the keys' expiry (not saved: see persist, which also records it as expiresAt).
local function expire(c, ttl)
  local at = expiry_of(c, ttl)
  if at ~= nil then
    redis.call('PEXPIREAT', KEYS[1], num(at))
    redis.call('PEXPIREAT', KEYS[2], num(at))
    redis.call('PEXPIREAT', KEYS[3], num(at))
  else
    redis.call('PERSIST', KEYS[1])
    redis.call('PERSIST', KEYS[2])
    redis.call('PERSIST', KEYS[3])
  end
end

local function duplicate()
  return duplicate_of(redis.call('HGET', KEYS[1], SEQ_FIELD))
end

-- Records this command's sequence number as applied.
local function applied(now)
  local value = seq_value(now)
  if value == nil then return end
  if redis.call('HSET', KEYS[1], SEQ_FIELD, value) == 1 then prune_sequences(now) end
end

-- Saves the connection, moves its expiry and records the command as applied: every script that
-- changed the connection ends with this.
local function persist(c, ttl, now)
  local at = expiry_of(c, ttl)
  c.expiresAt = at
  save(c)
  if at ~= nil then
    redis.call('PEXPIREAT', KEYS[1], num(at))
    redis.call('PEXPIREAT', KEYS[2], num(at))
    redis.call('PEXPIREAT', KEYS[3], num(at))
  elseif c.was ~= nil and c.was.expiresAt ~= nil then
    redis.call('PERSIST', KEYS[1])
    redis.call('PERSIST', KEYS[2])
    redis.call('PERSIST', KEYS[3])
  end
  applied(now)
end

-- Marks the state as announced now (before persist, so the marks are saved with it).
local function announcing(c, now)
  c.announcedAt = now
  c.announcedVersion = c.version
  return true
end

-- A time window's counts as of now, for a reply (nothing is saved).
local function window_current(c, now)
  local size = string.match(c.wshape or '', '^ms:(.+)$')
  if size ~= nil then window_advance(c, { windowKind = 'ms', windowSize = tonumber(size) }, now) end
end

local function reply(now, c, expired, from, transitioned, flag, retry, announced, dup)
  window_current(c, now)
  local r = { num(now), '1', expired and '1' or '0', from, transitioned and '1' or '0',
    flag and '1' or '0', num(retry), announced and '1' or '0', dup and '1' or '0' }
  for _, f in ipairs(FIELDS) do
    if c[f] == nil then r[#r + 1] = false else r[#r + 1] = out(c, f) end
  end
  r[#r + 1] = num(redis.call('ZCOUNT', KEYS[2], '(' .. num(now), '+inf'))
  return r
end

local function announce(kind, reason, r)
  local msg = { kind = kind, tag = ARGV[#ARGV - 1], reply = r }
  if reason ~= nil and reason ~= '' then msg.reason = reason end
  publish(msg)
end
`;

/** Every script that has no lean path starts with this: the prelude, then the shared definitions. */
export const COMMON_LUA = PRELUDE_LUA + SHARED_LUA;
