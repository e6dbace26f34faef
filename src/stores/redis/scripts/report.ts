import { REPLY_DOC, SETTINGS_DOC, SHARED_LUA, TAIL_DOC } from './common.js';
import { COUNTERS_DOC, COUNTERS_LUA } from './counters.js';
import { PRELUDE_LUA } from './prelude.js';

/** The lean reply of a report that changed no state, as Lua comment text. */
export const LEAN_REPLY_DOC = `
  Lean reply (a report that changed no state):
    [1] now (server ms)  [2] '2' (lean)  [3] duplicate: '1' when the command was a resend
    [4] registeredAt  [5] version  [6] state  [7] failureCount  [8] totalFailures
    [9] totalSuccesses  [10] announced: '1' when this call published the counters
    [11] trailing: '1' when this report is the first change left unannounced since the last
         announcement: its process refreshes the connection once the announcement is due
    [12] when an announcement of this state is due (server ms): the last one + ARGV[12]`;

/** Lua of `report`. */
export const REPORT_LUA = `
--[[
  report: applies a batch of outcomes of one connection atomically, one by one, in order, at this
  moment (src/core/outcome.ts applyOutcome on top of transitions.ts onSuccess / onFailure, with
  the 'rate' policy's window): plus the counters of memory-store's report. Outcomes are activity
  (lastActivityAt = now); a batch with none (an ignored trial) only releases its lease.

  Lean path: when the batch moves no state and settles nothing (an open circuit's outcomes, the
  'consecutive' policy's closed circuit when the batch's summary shows it cannot trip: the
  summary is src/core/outcome-batch.ts's; outcomes counted in the totals only), the script
  reads and writes only the fields it needs and gives the lean reply; when an announcement is
  due it publishes the counters only (counters.ts). It runs right after the prelude, before the
  shared definitions are built. Otherwise the script loads the whole connection and gives the
  common reply.

  KEYS[1] state hash   KEYS[2] trial-lease sorted set   KEYS[3] rate window
  ARGV[1] ttlMs
  ARGV[2] effective settings, one string (below)
  ARGV[3] successes  ARGV[4] failures  ARGV[5] head (failures before the first success)
  ARGV[6] run (longest failure run after the first success)
  ARGV[7] tail (failures after the last success)
  ARGV[8] the last failure's reason: '' for none, else '=' followed by the text
  ARGV[9] trial lease token to release, '' for none. An empty batch without a token frees the
           oldest lease (the core's onIgnored); with one, exactly that lease.
  ARGV[10] fence: the generation the reporting trial was admitted in, '' for none. A trial's
           result that arrives in a later half-open period (its own has ended) is counted in
           the totals but cannot decide the new period. In any other state the outcome applies
           as usual, as with the memory store.
  ARGV[11] mode: '' to apply the outcomes, 'totals' to count them in the totals only (outcomes
           replayed after an outage must not move a state the fleet has moved on from);
           'full' and 'full totals' the same through the full path, whose reply is the whole
           connection (for tests that compare whole states after every report)
  ARGV[12] announce interval ms: a report that changes no state still announces the
           connection when the last announcement is at least this old
  ARGV[13] the outcomes in order, one letter each: 's' success, 'f' failure, 'S' and 'F' slow
  ARGV[14] retry-after ms of the batch's last failure ('' for none; such a batch holds one
           outcome): it opens the circuit at once for exactly that long
${TAIL_DOC}
${SETTINGS_DOC}
  Announces when the batch changed the state (kind: the outcome of its last transition), when it
  only settled it (kind 'expire'), or, when the last announcement is at least ARGV[12] ms old,
  a report that changed no state: its counters from the lean path (kind 'counters'), the whole
  connection from the full path (kind 'refresh').

  Reply: the lean reply, or the common reply. [5] transitioned = '1' only for the one call
  whose outcomes changed the state, so exactly one reporter sees a trip.
${LEAN_REPLY_DOC}
${REPLY_DOC}
${COUNTERS_DOC}
]]
${PRELUDE_LUA}
${COUNTERS_LUA}
local now, ttl = server_now(), tonumber(ARGV[1])
local successes, failures = tonumber(ARGV[3]), tonumber(ARGV[4])
local reason, token = ARGV[8], ARGV[9]
local mode, every = ARGV[11], tonumber(ARGV[12])
local totals_only = mode == 'totals' or mode == 'full totals'
local counts = successes + failures > 0
local retry = tonumber(ARGV[14])

-- The lean path: a few fields in, a few out, when nothing but counters can change. It runs
-- before the shared definitions are built (see prelude.ts).
local v = redis.call('HMGET', KEYS[1], 'state', 'failureCount', 'openUntil', 'registeredAt',
  'version', 'announcedAt', 'announcedVersion', 'expiresAt', 'totalFailures', 'totalSuccesses',
  SEQ_FIELD)
if v[1] == false then return missing(now) end
local state, now_s, announced_at = v[1], num(now), tonumber(v[6]) or 0
if duplicate_of(v[11]) then
  return { now_s, '2', '1', v[4], v[5] or '0', state, v[2], v[9], v[10], '0', '0',
    num(announced_at + every) }
end
if token == '' and counts and retry == nil and mode ~= 'full' and mode ~= 'full totals' then
  local fc = tonumber(v[2])
  local open_now = state == 'open' and v[3] ~= false and now < tonumber(v[3])
  local keeps, count = open_now or (totals_only and state ~= 'open'), fc
  if not keeps and state == 'closed' then
    local max_attempts, policy = string.match(ARGV[2], '^(%S+) (%S+)')
    if policy ~= 'rate' then
      local head = tonumber(ARGV[5])
      max_attempts = tonumber(max_attempts)
      local trips = (head > 0 and fc + head >= max_attempts)
        or (successes > 0 and tonumber(ARGV[6]) >= max_attempts)
      keeps = not trips
      if successes > 0 then count = tonumber(ARGV[7]) else count = fc + head end
    end
  end
  local at = nil
  if ttl > 0 then at = math.floor(math.max(now, tonumber(v[3]) or 0) + ttl) end
  local stale_expiry = (at == nil and v[8] ~= false)
    or (at ~= nil and (v[8] == false or tonumber(v[8]) < at))
  if keeps and not stale_expiry then
    local before = tonumber(v[5] or '0')
    local version, count_s, total_f, total_s = num(before + 1), v[2], v[9], v[10]
    local set = { 'version', version, 'lastActivityAt', now_s }
    local function put(field, value)
      set[#set + 1] = field
      set[#set + 1] = value
    end
    if count ~= fc then
      count_s = num(count)
      put('failureCount', count_s)
    end
    if successes > 0 then
      total_s = num(tonumber(v[10]) + successes)
      put('totalSuccesses', total_s)
      put('lastSuccessTime', now_s)
    end
    if failures > 0 then
      total_f = num(tonumber(v[9]) + failures)
      put('totalFailures', total_f)
      put('lastFailureTime', now_s)
      if reason ~= '' then
        put('lastFailureReason', string.sub(reason, 2))
      else
        redis.call('HDEL', KEYS[1], 'lastFailureReason')
      end
    end
    local seq = ARGV[#ARGV]
    if seq ~= '' then put(SEQ_FIELD, seq .. ':' .. now_s) end
    -- Announced when due; otherwise the first report left unannounced since the last
    -- announcement is the trailing one: its process refreshes once the interval has passed.
    local publish, trailing, due = now - announced_at >= every, '0', announced_at + every
    if publish then
      put('announcedAt', now_s)
      put('announcedVersion', version)
      due = now + every
    elseif v[7] == false or tonumber(v[7]) >= before then
      trailing = '1'
    end
    redis.call('HSET', KEYS[1], unpack(set))
    if seq ~= '' and v[11] == false then prune_sequences(now) end
    if publish then
      local x = redis.call('HMGET', KEYS[1], 'generation', 'lastFailureTime', 'lastFailureReason',
        'lastSuccessTime')
      publish_counters({ now_s, '3', v[4], version, state, x[1], count_s, total_f, total_s, x[2],
        x[3], x[4], now_s, '1' })
    end
    return { now_s, '2', '0', v[4], version, state, count_s, total_f, total_s,
      publish and '1' or '0', trailing, num(due) }
  end
end

${SHARED_LUA}
local s = settings(2)
local b = { successes = successes, failures = failures,
  head = tonumber(ARGV[5]), run = tonumber(ARGV[6]), tail = tonumber(ARGV[7]) }
local fence = tonumber(ARGV[10])
local codes = ARGV[13]

-- outcome.ts applyOutcome, for one outcome; returns whether the state changed.
local function apply_one(c, failed, slow)
  local st = c.state
  local rate = nil
  if (st == 'closed' or st == 'unknown') and s.tripPolicy == 'rate' then
    window_add(c, s, failed, slow, now)
    rate = rate_trip(c, s)
  end
  if failed then
    if st == 'open' then return false end
    c.failureCount = c.failureCount + 1
    if st == 'half_open' then
      opened(c, s, now, retry)
      c.trip = retry and cjson.encode({ rule = 'retry_after', retryAfterMs = retry })
        or cjson.encode({ rule = 'failed_trial' })
      return true
    end
    local trips = retry ~= nil or (s.tripPolicy == 'rate' and rate ~= nil)
      or (s.tripPolicy ~= 'rate' and c.failureCount >= s.maxAttempts)
    if trips then
      opened(c, s, now, retry)
      if retry ~= nil then c.trip = cjson.encode({ rule = 'retry_after', retryAfterMs = retry })
      elseif rate ~= nil then c.trip = rate
      else c.trip = cjson.encode({ rule = 'consecutive_failures', failures = c.failureCount,
        threshold = s.maxAttempts }) end
      return true
    end
    if st == 'unknown' then
      c.state = 'closed'
      c.changedAt = now
      bump(c)
      return true
    end
    return false
  end
  if st == 'closed' then
    c.failureCount = 0
    if rate == nil then return false end
    opened(c, s, now, nil)
    c.trip = rate
    return true
  elseif st == 'unknown' then
    if rate ~= nil then
      opened(c, s, now, nil)
      c.trip = rate
    else
      closed(c, now, nil)
    end
    return true
  elseif st == 'half_open' then
    local successes = (c.trialSuccesses or 0) + 1
    if successes >= s.successThreshold then
      local ramp = nil
      if s.rampUpMs > 0 then ramp = now end
      closed(c, now, ramp)
      return true
    end
    c.trialSuccesses = successes
    if token == '' then redis.call('ZPOPMIN', KEYS[2]) end -- its trial slot is free again
    return false
  end
  return false -- open: totals only
end

local function count_totals(c)
  if b.successes > 0 then
    c.totalSuccesses = c.totalSuccesses + b.successes
    c.lastSuccessTime = now
  end
  if b.failures > 0 then
    c.totalFailures = c.totalFailures + b.failures
    c.lastFailureTime = now
    if reason == '' then c.lastFailureReason = nil else c.lastFailureReason = string.sub(reason, 2) end
  end
  if counts then c.lastActivityAt = now end
end

-- The full path: load everything, apply, reply with the whole connection.
local c = load()
local expired = settle(c, now)
local from = c.state
local decides = not totals_only and not (fence ~= nil and fence ~= c.generation and from == 'half_open')
count_totals(c)
local cause = nil
if decides then
  for i = 1, #codes do
    local code = string.sub(codes, i, i)
    local failed = code == 'f' or code == 'F'
    if apply_one(c, failed, code == 'S' or code == 'F') then
      if failed then cause = 'failure' else cause = 'success' end
    end
  end
end
if not counts and token == '' and from == 'half_open' then redis.call('ZPOPMIN', KEYS[2]) end
if token ~= '' then redis.call('ZREM', KEYS[2], token) end
local moved = c.state ~= from
local kind = nil
if counts or expired then c.version = c.version + 1 end
if moved then kind = cause or 'success'
elseif expired then kind = 'expire'
elseif counts and now - (c.announcedAt or 0) >= every then kind = 'refresh' end
if kind ~= nil then announcing(c, now) end
persist(c, ttl, now)
local r = reply(now, c, expired, from, moved, false, 0, kind ~= nil, false)
if kind ~= nil then announce(kind, moved and kind == 'failure' and string.sub(reason, 2) or nil, r) end
return r
`;
