/**
 * Counters announcements: how a change that moves no state (a report that only counts) reaches
 * every process without loading and replying the whole connection. The report's lean path, and
 * the refresh that announces what reports left unannounced, publish the connection's counters
 * with what a view needs to know whether they apply to the state it holds (registeredAt, state,
 * generation, version); a view holding another state reads the connection back instead
 * (src/stores/redis/apply.ts).
 */

/** The counters array, as Lua comment text for script headers. */
export const COUNTERS_DOC = `
  Counters (refresh's lean reply, and the 'counters' of a counters announcement), strings or
  nils in this order:
    [1] now (server ms)  [2] '3' (counters)  [3] registeredAt  [4] version  [5] state
    [6] generation  [7] failureCount  [8] totalFailures  [9] totalSuccesses
    [10] lastFailureTime  [11] lastFailureReason  [12] lastSuccessTime  [13] lastActivityAt
    [14] announced: '1' when this call published them
  Announced on the channel as JSON { source, kind: 'counters', tag, counters } (nils as
  false).`;

/** Lua shared by the scripts that announce counters (after the prelude). */
export const COUNTERS_LUA = `
local function publish_counters(counters)
  publish({ kind = 'counters', tag = ARGV[#ARGV - 1], counters = counters })
end
`;
