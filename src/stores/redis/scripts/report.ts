import { COMMON_LUA, REPLY_DOC, TAIL_DOC } from './common.js';

/** The lean reply of a report that changed no state, as Lua comment text. */
export const LEAN_REPLY_DOC = `
  Lean reply (a report that changed no state and announced nothing):
    [1] now (server ms)  [2] '2' (lean)  [3] duplicate: '1' when the command was a resend
    [4] registeredAt  [5] version  [6] state  [7] failureCount  [8] totalFailures
    [9] totalSuccesses`;

/** Lua of `report`. */
export const REPORT_LUA = `
--[[
  report: applies a batch of outcomes of one connection atomically, with the result of applying
  them one by one, in order, at this moment (src/core/outcome-batch.ts applyBatch, on top of
  transitions.ts onSuccess / onFailure): failures before the first success add to the count;
  the first success resets it (closing an unknown or half-open circuit); after it, a run of
  maxAttempts failures trips the circuit, else the count ends as the failures after the last
  success; once open, the rest counts in the totals only. Plus the counters of memory-store's
  report. Outcomes are activity (lastActivityAt = now); a batch with none (an ignored trial)
  only releases its lease.

  Fast path: when the batch moves no state, settles nothing and no announcement is due, the
  script reads and writes only the fields it needs and gives the lean reply. Otherwise it loads
  the whole connection and gives the common reply.

  KEYS[1] state hash   KEYS[2] trial-lease sorted set
  ARGV[1] ttlMs
  ARGV[2..9] effective settings: maxAttempts, expiry, expiryStrategy, initialExpiry,
             maxExpiry, backoffFactor, halfOpenProbes, probeTimeout
  ARGV[10] successes  ARGV[11] failures  ARGV[12] head (failures before the first success)
  ARGV[13] run (longest failure run after the first success)
  ARGV[14] tail (failures after the last success)
  ARGV[15] the last failure's reason: '' for none, else '=' followed by the text
  ARGV[16] trial lease token to release, '' for none. An empty batch without a token frees the
           oldest lease (the core's onIgnored); with one, exactly that lease.
  ARGV[17] fence: the generation the reporting trial was admitted in, '' for none. A trial's
           result that arrives in a later half-open period (its own has ended) is counted in
           the totals but cannot decide the new period. In any other state the outcome applies
           as usual, as with the memory store.
  ARGV[18] mode: '' to apply the outcomes, 'totals' to count them in the totals only (outcomes
           replayed after an outage must not move a state the fleet has moved on from)
  ARGV[19] announce interval ms: a report that changes no state still announces the
           connection when the last announcement is at least this old
${TAIL_DOC}
  Announces when the batch changed the state (kind 'failure' when it opened the circuit or a
  failure closed an unknown one, else 'success'), when it only settled it (kind 'expire'), or,
  with kind 'refresh', when the last announcement is older than ARGV[19].

  Reply: the lean reply, or the common reply. [5] transitioned = '1' only for the one call
  whose outcomes changed the state, so exactly one reporter sees a trip.
${LEAN_REPLY_DOC}
${REPLY_DOC}
]]
${COMMON_LUA}
local now, ttl = server_now(), tonumber(ARGV[1])
local s = settings(2)
local b = { successes = tonumber(ARGV[10]), failures = tonumber(ARGV[11]),
  head = tonumber(ARGV[12]), run = tonumber(ARGV[13]), tail = tonumber(ARGV[14]) }
local reason, token, fence = ARGV[15], ARGV[16], tonumber(ARGV[17])
local totals_only, every = ARGV[18] == 'totals', tonumber(ARGV[19])
local counts = b.successes + b.failures > 0

-- n failures in a row (outcome-batch.ts failures)
local function fail_run(c, n)
  if n == 0 or c.state == 'open' then return end
  if c.state == 'half_open' then
    c.failureCount = c.failureCount + 1
    opened(c, s, now, nil)
  elseif c.state == 'unknown' then
    c.failureCount = c.failureCount + 1
    if c.failureCount >= s.maxAttempts then
      opened(c, s, now, nil)
    else
      c.state = 'closed'
      c.changedAt = now
      bump(c)
    end
    fail_run(c, n - 1)
  else
    c.failureCount = c.failureCount + math.min(n, math.max(1, s.maxAttempts - c.failureCount))
    if c.failureCount >= s.maxAttempts then opened(c, s, now, nil) end
  end
end

-- outcome-batch.ts applyBatch
local function apply_batch(c)
  if b.head > 0 then
    fail_run(c, b.head)
    if b.successes == 0 then return end
  elseif b.successes == 0 then
    return
  end
  if c.state == 'closed' then
    c.failureCount = 0
  elseif c.state == 'unknown' or c.state == 'half_open' then
    closed(c, now)
  end
  if c.state ~= 'closed' then return end
  if b.run >= s.maxAttempts then fail_run(c, s.maxAttempts) else fail_run(c, b.tail) end
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

-- The fast path: a few fields in, a few out, when nothing but counters can change.
local LEAN = { 'state', 'failureCount', 'openUntil', 'registeredAt', 'version', 'announcedAt',
  'expiresAt', 'totalFailures', 'totalSuccesses', SEQ_FIELD }
local v = redis.call('HMGET', KEYS[1], unpack(LEAN))
if v[1] == false then return missing(now) end
local state, fc = v[1], tonumber(v[2])
local function lean(dup, version, failures, successes, count)
  return { num(now), '2', dup and '1' or '0', v[4], version, state, count, failures, successes }
end
if duplicate_of(v[10]) then return lean(true, v[5] or '0', v[8], v[9], v[2]) end
if token == '' and counts and now - (tonumber(v[6]) or 0) < every then
  local open_now = state == 'open' and v[3] ~= false and now < tonumber(v[3])
  local keeps, count = open_now or (totals_only and state ~= 'open'), fc
  if not keeps and state == 'closed' then
    local trips = (b.head > 0 and fc + b.head >= s.maxAttempts)
      or (b.successes > 0 and b.run >= s.maxAttempts)
    keeps = not trips
    if b.successes > 0 then count = b.tail else count = fc + b.head end
  end
  local at = nil
  if ttl > 0 then at = math.floor(math.max(now, tonumber(v[3]) or 0) + ttl) end
  local stale_expiry = (at == nil and v[7] ~= false)
    or (at ~= nil and (v[7] == false or tonumber(v[7]) < at))
  if keeps and not stale_expiry then
    local version = tonumber(v[5] or '0') + 1
    local failures = tonumber(v[8]) + b.failures
    local successes = tonumber(v[9]) + b.successes
    local set = { 'version', num(version), 'lastActivityAt', num(now) }
    if count ~= fc then set[#set + 1] = 'failureCount'; set[#set + 1] = num(count) end
    if b.successes > 0 then
      set[#set + 1] = 'totalSuccesses'; set[#set + 1] = num(successes)
      set[#set + 1] = 'lastSuccessTime'; set[#set + 1] = num(now)
    end
    if b.failures > 0 then
      set[#set + 1] = 'totalFailures'; set[#set + 1] = num(failures)
      set[#set + 1] = 'lastFailureTime'; set[#set + 1] = num(now)
      if reason ~= '' then
        set[#set + 1] = 'lastFailureReason'; set[#set + 1] = string.sub(reason, 2)
      else
        redis.call('HDEL', KEYS[1], 'lastFailureReason')
      end
    end
    local seq = seq_value(now)
    if seq ~= nil then set[#set + 1] = SEQ_FIELD; set[#set + 1] = seq end
    redis.call('HSET', KEYS[1], unpack(set))
    if seq ~= nil and v[10] == false then prune_sequences(now) end
    return lean(false, num(version), num(failures), num(successes), num(count))
  end
end

-- The full path: load everything, apply, reply with the whole connection.
local c = load()
local expired = settle(c, now)
local from = c.state
local decides = not totals_only and not (fence ~= nil and fence ~= c.generation and from == 'half_open')
count_totals(c)
if decides then apply_batch(c) end
if not counts and token == '' and from == 'half_open' then redis.call('ZPOPMIN', KEYS[2]) end
if token ~= '' then redis.call('ZREM', KEYS[2], token) end
local moved = c.state ~= from
local kind = nil
if counts or expired then c.version = c.version + 1 end
if moved then
  if c.state == 'open' or (from == 'unknown' and b.head > 0) then kind = 'failure' else kind = 'success' end
elseif expired then kind = 'expire'
elseif counts and now - (c.announcedAt or 0) >= every then kind = 'refresh' end
if kind ~= nil then announcing(c, now) end
persist(c, ttl, now)
local r = reply(now, c, expired, from, moved, false, 0, kind ~= nil, false)
if kind ~= nil then announce(kind, moved and kind == 'failure' and string.sub(reason, 2) or nil, r) end
return r
`;
