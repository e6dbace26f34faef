import { COMMON_LUA, REPLY_DOC, TAIL_DOC } from './common.js';

/** Lua of `refresh`. */
export const REFRESH_LUA = `
--[[
  refresh: announces the connection's state if it changed since its last announcement. Reports
  that change no state announce at most once per interval (see report); the last report of a
  burst may go unannounced, so the process that made it sends this shortly after: every view
  then holds the same counters within the interval, whatever the traffic. Not activity.

  KEYS[1] state hash   KEYS[2] trial-lease sorted set   KEYS[3] rate window
  ARGV[1] ttlMs
${TAIL_DOC}
  Announces (kind 'refresh', or 'expire' when it settled) when the state changed since the last
  announcement; a later refresh by another process finds nothing new and stays silent.

  Reply: the common reply.
${REPLY_DOC}
]]
${COMMON_LUA}
local now, ttl, c = begin()
if c == nil then return missing(now) end
local expired = settle(c, now)
if expired then c.version = c.version + 1 end
local due = expired or (c.announcedVersion or -1) < c.version
if due then
  announcing(c, now)
  persist(c, ttl, now)
end
local r = reply(now, c, expired, c.state, false, false, 0, due, false)
if due then announce(expired and 'expire' or 'refresh', nil, r) end
return r
`;
