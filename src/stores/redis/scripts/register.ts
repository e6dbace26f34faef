import { COMMON_LUA, REPLY_DOC } from './common.js';

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

  Reply: the common reply; [6] = '1' when this call created the connection.
${REPLY_DOC}
]]
${COMMON_LUA}
local now = server_now()
local ttl = tonumber(ARGV[1])
local c = load()
local created, expired = false, false
if c == nil then
  c = { state = 'unknown', failureCount = 0, openings = 0, changedAt = now, generation = 0,
    totalFailures = 0, totalSuccesses = 0, registeredAt = now, lastActivityAt = now,
    options = ARGV[2], metadata = ARGV[3] }
  -- Leases of a deleted predecessor must not count against the new connection.
  c.clear_trials = true
  created = true
else
  expired = settle(c, now)
  c.lastActivityAt = now
end
persist(c, ttl)
return reply(now, c, expired, c.state, false, created, 0)
`;
