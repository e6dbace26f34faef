import { COMMON_LUA, REPLY_DOC, SETTINGS_DOC, TAIL_DOC } from './common.js';

/** Lua of `act`. */
export const ACT_LUA = `
--[[
  act: a manual action (transitions.ts openManually / closeManually / force), after a settle.
  Always activity and always bumps generation, even when the state does not change.

  KEYS[1] state hash   KEYS[2] trial-lease sorted set   KEYS[3] rate window
  ARGV[1] ttlMs
  ARGV[2] effective settings, one string (below)
  ARGV[3] action: 'open' | 'close' | 'reset' | 'force_open' | 'force_closed' | 'force_half_open'
  ARGV[4] 'open' only: this opening's expiry in ms, '' for the strategy's period
  ARGV[5] the action's reason: '' for none, else '=' followed by the text
${TAIL_DOC}
${SETTINGS_DOC}
  Always announces (kind = the action): a manual action reaches every process.

  Reply: the common reply.
${REPLY_DOC}
]]
${COMMON_LUA}
local now, ttl, c = begin()
if c == nil then return missing(now) end
local s = settings(2)
local action, expiry, reason = ARGV[3], ARGV[4], ARGV[5]
if duplicate() then return reply(now, c, false, c.state, false, false, 0, false, true) end
local expired = settle(c, now)
local from = c.state
if action == 'open' then
  opened(c, s, now, tonumber(expiry))
elseif action == 'force_open' then
  opened(c, s, now, nil)
elseif action == 'close' or action == 'reset' or action == 'force_closed' then
  closed(c, now)
elseif action == 'force_half_open' then
  if c.openedAt == nil then c.openedAt = now end
  if from ~= 'half_open' then c.changedAt = now end
  c.state = 'half_open'
  c.openUntil = nil
  bump(c)
else
  return redis.error_reply('ERR brama act: unknown action ' .. action)
end
c.lastActivityAt = now
c.version = c.version + 1
announcing(c, now)
persist(c, ttl, now)
local r = reply(now, c, expired, from, c.state ~= from, false, 0, true, false)
announce(action, string.sub(reason, 2), r)
return r
`;
