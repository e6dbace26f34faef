/** Lua of `delete`. */
export const DELETE_LUA = `
--[[
  delete: removes the connection's keys.

  KEYS[1] state hash   KEYS[2] trial-lease sorted set   KEYS[3] rate window
  (no ARGV)

  Reply: { now (server ms), found: '1' when the state hash existed, else '0' }.
]]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local found = redis.call('DEL', KEYS[1])
redis.call('DEL', KEYS[2], KEYS[3])
return { string.format('%.17g', now), found == 1 and '1' or '0' }
`;
