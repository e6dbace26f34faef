import { REPLY_DOC, SHARED_LUA, TAIL_DOC } from './common.js';
import { COUNTERS_DOC, COUNTERS_LUA } from './counters.js';
import { PRELUDE_LUA } from './prelude.js';

/** Lua of `refresh`. */
export const REFRESH_LUA = `
--[[
  refresh: announces what reports left unannounced. Reports that change no state announce at
  most once per interval (see report); the first report left unannounced after an announcement
  names its process as the one to send this once the interval has passed, so every view holds
  the same counters within the interval whatever the traffic. Not activity.

  Lean path (no open period has ended): when the state changed since its last announcement and
  that announcement is at least ARGV[2] ms old, publishes the counters (counters.ts); replies
  with the counters either way. Otherwise (an open period has ended) it records the lazy
  open → half_open transition, announces it (kind 'expire') and replies with the whole
  connection.

  KEYS[1] state hash   KEYS[2] trial-lease sorted set   KEYS[3] rate window
  ARGV[1] ttlMs
  ARGV[2] announce interval ms (as the reports')
${TAIL_DOC}

  Reply: the counters, or the common reply after a settle.
${COUNTERS_DOC}
${REPLY_DOC}
]]
${PRELUDE_LUA}
${COUNTERS_LUA}
local now = server_now()
local v = redis.call('HMGET', KEYS[1], 'state', 'openUntil', 'registeredAt', 'version',
  'announcedAt', 'announcedVersion', 'generation', 'failureCount', 'totalFailures',
  'totalSuccesses', 'lastFailureTime', 'lastFailureReason', 'lastSuccessTime', 'lastActivityAt')
if v[1] == false then return missing(now) end
if not (v[1] == 'open' and v[2] ~= false and now >= tonumber(v[2])) then
  local now_s, version = num(now), v[4] or '0'
  local due = tonumber(v[6] or '-1') < tonumber(version)
    and now - (tonumber(v[5]) or 0) >= tonumber(ARGV[2])
  if due then redis.call('HSET', KEYS[1], 'announcedAt', now_s, 'announcedVersion', version) end
  local r = { now_s, '3', v[3], version, v[1], v[7], v[8], v[9], v[10], v[11], v[12], v[13],
    v[14], due and '1' or '0' }
  if due then publish_counters(r) end
  return r
end
${SHARED_LUA}
local ttl, c = tonumber(ARGV[1]), load()
settle(c, now)
c.version = c.version + 1
announcing(c, now)
persist(c, ttl, now)
local r = reply(now, c, true, c.state, false, false, 0, true, false)
announce('expire', nil, r)
return r
`;
