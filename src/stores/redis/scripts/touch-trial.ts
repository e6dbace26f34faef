/** Lua of `touch_trial`. */
export const TOUCH_TRIAL_LUA = `
--[[
  touch_trial: a call took a leased trial slot: the lease now lapses probeTimeout after this
  moment (the call's admission, give or take one round trip), not after it was leased.
  Does nothing when the lease is gone (it lapsed, or a transition dropped every lease).

  KEYS[1] state hash   KEYS[2] trial-lease sorted set   KEYS[3] rate window
  ARGV[1] lease token  ARGV[2] probeTimeout ms

  Reply: { now (server ms), found: '1' when the lease was still there, else '0' }.
]]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local changed = redis.call('ZADD', KEYS[2], 'XX', 'CH', string.format('%.17g', now + tonumber(ARGV[2])), ARGV[1])
local found = changed == 1 or redis.call('ZSCORE', KEYS[2], ARGV[1]) ~= false
return { string.format('%.17g', now), found and '1' or '0' }
`;
