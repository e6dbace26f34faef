/**
 * The first part of every script: the few definitions a lean path needs (server time, number
 * formatting, the sequence-number dedupe). Every EVALSHA runs its script's whole body, so what a
 * script defines is built on every call: the report and refresh scripts run their lean paths
 * right after this prelude and build the shared definitions (common.ts) only when they fall
 * through to the full path. Keep it small.
 */

/** A connection's fields, replied in this order by the common reply (REPLY_DOC). */
export const FIELDS: readonly string[] = [
  'state',
  'failureCount',
  'openedAt',
  'openUntil',
  'openings',
  'changedAt',
  'generation',
  'version',
  'totalFailures',
  'totalSuccesses',
  'lastFailureTime',
  'lastFailureReason',
  'lastSuccessTime',
  'registeredAt',
  'lastActivityAt',
  'options',
  'metadata',
  'trialSuccesses',
  'rampFrom',
  'wcalls',
  'wfailures',
  'wslow',
  'trip',
];

/**
 * Stored but never replied: when the state was last announced, the rebuild bookkeeping of a
 * connection recreated from what processes knew (see sync), and the 'rate' window's position,
 * shape and time buckets.
 */
export const HIDDEN: readonly string[] = [
  'announcedAt',
  'announcedVersion',
  'rebuilt',
  'baseFailures',
  'baseSuccesses',
  'expiresAt',
  'wnext',
  'wshape',
  ...Array.from({ length: 10 }, (_, i) => `w${i}`),
];

/** Sequence entries a connection keeps before those of long-silent processes are pruned. */
const SEQ_KEEP = 64;

/** A Lua table constructor of strings. */
export function luaList(list: readonly string[]): string {
  return `{ ${list.map((f) => `'${f}'`).join(', ')} }`;
}

export const PRELUDE_LUA = `
if redis.replicate_commands then redis.replicate_commands() end

local SEQ_MAX_AGE = 86400000
local SEQ_FIELD = 's:' .. ARGV[#ARGV - 2]

local function num(v) return string.format('%.17g', v) end

local function server_now()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- Whether this command is a resend of one already applied (see "Exactly once" in common.ts).
local function duplicate_of(last)
  local seq = tonumber(ARGV[#ARGV])
  if seq == nil or not last then return false end
  local applied = tonumber(string.match(last, '^(%d+)'))
  return applied ~= nil and seq <= applied
end

-- The field recording this command's sequence number as applied, for HSET ('' when none).
local function seq_value(now)
  if ARGV[#ARGV] == '' then return nil end
  return ARGV[#ARGV] .. ':' .. num(now)
end

-- Entries of processes silent for a day go once a connection keeps more than ${SEQ_KEEP} of them
-- (a fleet's restarts add one each; the threshold counts the ${FIELDS.length} fields and ${HIDDEN.length}
-- hidden ones). Checked when a process records its first number.
local function prune_sequences(now)
  if redis.call('HLEN', KEYS[1]) <= ${FIELDS.length + HIDDEN.length + SEQ_KEEP} then return end
  local all = redis.call('HGETALL', KEYS[1])
  for i = 1, #all, 2 do
    if string.sub(all[i], 1, 2) == 's:' then
      local at = tonumber(string.match(all[i + 1], ':(%d+)$'))
      if at == nil or at < now - SEQ_MAX_AGE then redis.call('HDEL', KEYS[1], all[i]) end
    end
  end
end

local function missing(now) return { num(now), '0' } end

-- Publishes an announcement: JSON that starts with the source, so that a process can skip its
-- own without parsing them (cjson orders keys at random).
local function publish(msg)
  local n = #ARGV
  redis.call('PUBLISH', ARGV[n - 3], '{"source":' .. cjson.encode(ARGV[n - 2]) .. ','
    .. string.sub(cjson.encode(msg), 2))
end
`;
