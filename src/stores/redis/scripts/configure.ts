import { COMMON_LUA, REPLY_DOC, TAIL_DOC } from './common.js';

/** Lua of `configure`. */
export const CONFIGURE_LUA = `
--[[
  configure: replaces the connection's own options (and metadata, when given), fleet-wide.
  State is untouched (the next operation applies the new settings); configuring is activity.

  KEYS[1] state hash   KEYS[2] trial-lease sorted set   KEYS[3] rate window
  ARGV[1] ttlMs
  ARGV[2] the connection's own options, JSON (the whole set, not a patch)
  ARGV[3] metadata, JSON, or '' to keep it
${TAIL_DOC}
  Always announces (kind 'configure').

  Reply: the common reply.
${REPLY_DOC}
]]
${COMMON_LUA}
local now, ttl, c = begin()
if c == nil then return missing(now) end
if duplicate() then return reply(now, c, false, c.state, false, false, 0, false, true) end
local expired = settle(c, now)
c.options = ARGV[2]
if ARGV[3] ~= '' then c.metadata = ARGV[3] end
c.lastActivityAt = math.max(c.lastActivityAt, now)
c.version = c.version + 1
announcing(c, now)
persist(c, ttl, now)
local r = reply(now, c, expired, c.state, false, false, 0, true, false)
announce('configure', nil, r)
return r
`;
