import { COMMON_LUA, REPLY_DOC, TAIL_DOC } from './common.js';

/** Lua of `read`. */
export const READ_LUA = `
--[[
  read: the connection's state, settled. Reading is not activity: the TTL moves only when the
  settle records the open → half_open change (lastActivityAt = max(it, openUntil)).

  KEYS[1] state hash   KEYS[2] trial-lease sorted set   KEYS[3] rate window
  ARGV[1] ttlMs
${TAIL_DOC}
  Announces (kind 'expire') only when it recorded the lazy open → half_open transition.

  Reply: the common reply; [3] expired tells whether this read recorded the
  lazy open → half_open transition.
${REPLY_DOC}
]]
${COMMON_LUA}
local now, ttl, c = begin()
if c == nil then return missing(now) end
local expired = settle(c, now)
if expired then
  c.version = c.version + 1
  announcing(c, now)
  persist(c, ttl, now)
end
local r = reply(now, c, expired, c.state, false, false, 0, expired, false)
if expired then announce('expire', nil, r) end
return r
`;
