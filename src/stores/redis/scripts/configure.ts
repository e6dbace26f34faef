import { ANNOUNCE_DOC, COMMON_LUA, REPLY_DOC } from './common.js';

/** Lua of `configure`. */
export const CONFIGURE_LUA = `
--[[
  configure: replaces the connection's own options (and metadata, when given), fleet-wide.
  State is untouched (the next operation applies the new settings); configuring is activity.

  KEYS[1] state hash            KEYS[2] trial-lease sorted set
  ARGV[1] ttlMs
  ARGV[2] the connection's own options, JSON (the whole set, not a patch)
  ARGV[3] metadata, JSON, or '' to keep it
${ANNOUNCE_DOC}
  Always announces (kind 'configure').

  Reply: the common reply.
${REPLY_DOC}
]]
${COMMON_LUA}
local now = server_now()
local ttl = tonumber(ARGV[1])
local c = load()
if c == nil then return missing(now) end
local expired = settle(c, now)
c.options = ARGV[2]
if ARGV[3] ~= '' then c.metadata = ARGV[3] end
c.lastActivityAt = math.max(c.lastActivityAt, now)
persist(c, ttl)
local r = reply(now, c, expired, c.state, false, false, 0)
announce('configure', nil, r)
return r
`;
