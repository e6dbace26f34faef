import { ANNOUNCE_DOC, COMMON_LUA, REPLY_DOC } from './common.js';

/** Lua of `read`. */
export const READ_LUA = `
--[[
  read: the connection's state, settled. Reading is not activity: the TTL moves only when the
  settle records the open → half_open change (lastActivityAt = max(it, openUntil)).

  KEYS[1] state hash            KEYS[2] trial-lease sorted set
  ARGV[1] ttlMs
${ANNOUNCE_DOC}
  Announces (kind 'expire') only when it recorded the lazy open → half_open transition.

  Reply: the common reply; [3] expired tells whether this read recorded the
  lazy open → half_open transition.
${REPLY_DOC}
]]
${COMMON_LUA}
local now = server_now()
local ttl = tonumber(ARGV[1])
local c = load()
if c == nil then return missing(now) end
local expired = settle(c, now)
if expired then persist(c, ttl) end
local r = reply(now, c, expired, c.state, false, false, 0)
if expired then announce('expire', nil, r) end
return r
`;
