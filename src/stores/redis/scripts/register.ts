import { ANNOUNCE_DOC, COMMON_LUA, REPLY_DOC } from './common.js';

/** Lua of `register`. */
export const REGISTER_LUA = `
--[[
  register: creates a connection in state 'unknown', or adopts the existing one unchanged.
  Never overwrites existing state ("creating a monitor never resets shared state"): an
  existing connection is only settled and its lastActivityAt set to now (registration is
  activity); its options and metadata are kept.

  KEYS[1] state hash            KEYS[2] trial-lease sorted set
  ARGV[1] ttlMs (keys expire at lastActivityAt + ttlMs; 0 = never)
  ARGV[2] the connection's own options, JSON (only used when creating)
  ARGV[3] metadata, JSON (only used when creating)
  ARGV[4] seed, JSON or '' (only used when creating): the circuit and counters a process
          knew before Redis lost the keys (restart, expiry, deletion), in server time, so a
          reconnecting fleet keeps an open circuit open. Keys: state, failureCount, openedAt,
          openUntil, openings, changedAt, totalFailures, totalSuccesses, lastFailureTime,
          lastFailureReason, lastSuccessTime (absent = null).
${ANNOUNCE_DOC}
  Announces (kind 'expire') only when adopting recorded the lazy open → half_open transition.

  Reply: the common reply; [6] = '1' when this call created the connection.
${REPLY_DOC}
]]
${COMMON_LUA}
local SEEDED = { 'failureCount', 'openedAt', 'openUntil', 'openings', 'changedAt',
  'totalFailures', 'totalSuccesses', 'lastFailureTime', 'lastSuccessTime' }
local now = server_now()
local ttl = tonumber(ARGV[1])
local c = load()
local created, expired = false, false
if c == nil then
  c = { state = 'unknown', failureCount = 0, openings = 0, changedAt = now, generation = 0,
    totalFailures = 0, totalSuccesses = 0, registeredAt = now, lastActivityAt = now,
    options = ARGV[2], metadata = ARGV[3] }
  if ARGV[4] ~= '' then
    local seed = cjson.decode(ARGV[4])
    if seed.state == 'closed' or seed.state == 'open' or seed.state == 'half_open' then
      c.state = seed.state
    end
    for _, f in ipairs(SEEDED) do
      if type(seed[f]) == 'number' then c[f] = seed[f] end
    end
    if type(seed.lastFailureReason) == 'string' then c.lastFailureReason = seed.lastFailureReason end
    if c.state ~= 'open' then c.openUntil = nil
    elseif c.openUntil == nil then c.openUntil = now end
    c.changedAt = math.min(c.changedAt, now)
  end
  -- Leases of a deleted predecessor must not count against the new connection.
  c.clear_trials = true
  created = true
else
  expired = settle(c, now)
  c.lastActivityAt = now
end
persist(c, ttl)
local r = reply(now, c, expired, c.state, false, created, 0)
if expired then announce('expire', nil, r) end
return r
`;
