import { COMMON_LUA, REPLY_DOC, TAIL_DOC } from './common.js';

/** Lua shared by register and sync: a new connection in state 'unknown'. */
export const CREATE_LUA = `
local function create(now, options, metadata)
  return { state = 'unknown', failureCount = 0, openings = 0, changedAt = now, generation = 0,
    version = 1, totalFailures = 0, totalSuccesses = 0, registeredAt = now, lastActivityAt = now,
    options = options, metadata = metadata, clear_trials = true }
end
`;

/** Lua of `register`. */
export const REGISTER_LUA = `
--[[
  register: creates a connection in state 'unknown', or adopts the existing one unchanged.
  Never overwrites existing state ("creating a monitor never resets shared state"): an
  existing connection is only settled and its lastActivityAt set to now (registration is
  activity); its options and metadata are kept.

  KEYS[1] state hash   KEYS[2] trial-lease sorted set   KEYS[3] rate window
  ARGV[1] ttlMs (keys expire at lastActivityAt + ttlMs; 0 = never)
  ARGV[2] the connection's own options, JSON (only used when creating)
  ARGV[3] metadata, JSON (only used when creating)
${TAIL_DOC}
  Announces (kind 'expire') only when adopting recorded the lazy open → half_open transition.

  Reply: the common reply; [6] = '1' when this call created the connection.
${REPLY_DOC}
]]
${COMMON_LUA}
${CREATE_LUA}
local now, ttl, c = begin()
local created, expired = false, false
if c == nil then
  -- Leases of a deleted predecessor must not count for the new connection.
  c = create(now, ARGV[2], ARGV[3])
  created = true
else
  expired = settle(c, now)
  if expired then
    c.version = c.version + 1
    announcing(c, now)
  end
  c.lastActivityAt = now
end
persist(c, ttl, now)
local r = reply(now, c, expired, c.state, false, created, 0, expired, false)
if expired then announce('expire', nil, r) end
return r
`;
