// The Lua scripts of the Redis hot tier. Each runs atomically in Redis, so an applied batch and the
// checkpoint move together, and a lost or foreign state (FLUSHALL, another worker, a reset) makes the
// compare-and-set fail instead of writing into it. Keys, under a prefix P and an epoch E:
//   P:meta              hash  epoch, checkpoint, ready
//   P:eE:convs          zset  conversation id, scored by its last activity (ms)
//   P:eE:w:<c>          hash  lo, last: the hot window holds every seq from lo to last
//   P:eE:i:<c>          zset  item JSON scored by seq
//   P:eE:p:<c>          hash  seq → JSON array of patches (edits, recalls) applied at read time
//   P:eE:sc:<c>         string  the conversation's session state (heads, member count, fan-out mode), JSON
//   P:eE:sm:<c>         hash  user → fromSeq of their open period, or 'x' for a departed user with a row
//   P:eE:sr:<u>         hash  conversation → the user's session row with its unread seqs, JSON
// Items are stored as the JSON the caller gave and never re-encoded here (Lua's cjson would turn an
// empty array into an object and round numbers); patches are appended as text for the same reason.

/**
 * What the keys of an epoch hold. 2: session rows and unread were added. A state of another layout
 * (written by an older version) counts as no state: it is replaced by a new epoch and rebuilt from the
 * log, and readers never serve sessions from it (an older epoch has history but no session keys).
 */
export const HOT_LAYOUT = '2';

/**
 * KEYS[1] meta. ARGV: force ('1'|'0'), proposed epoch (the clock), layout. Returns epoch (greater than
 * the replaced state's), checkpoint, ready, and '1'
 * when it replaced an existing state (its keys are then swept by the caller).
 */
export const RESET = `
local layout = redis.call('HGET', KEYS[1], 'layout')
if ARGV[1] ~= '1' and layout == ARGV[3] then
  local meta = redis.call('HMGET', KEYS[1], 'epoch', 'checkpoint', 'ready')
  return {meta[1], meta[2], meta[3], '0'}
end
local replaced = redis.call('EXISTS', KEYS[1]) == 1 and '1' or '0'
-- The clock proposes the epoch, but a reset within the same millisecond (or after a clock step back)
-- must still get a new one: writers of the old epoch are told apart by it.
local epoch = tonumber(ARGV[2])
local previous = tonumber(redis.call('HGET', KEYS[1], 'epoch') or '')
if previous and previous >= epoch then epoch = previous + 1 end
epoch = string.format('%.0f', epoch)
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'epoch', epoch, 'checkpoint', '0', 'ready', '0', 'layout', ARGV[3])
return {epoch, '0', '0', replaced}`;

/** Trims conversation c of epoch base to its newest maxItems (shared by APPLY and TRIM). */
const TRIM_TO = `
local function trimBelow(base, c, newLo)
  local w = base .. ':w:' .. c
  local win = redis.call('HMGET', w, 'lo', 'last')
  local lo, last = tonumber(win[1]), tonumber(win[2])
  if lo == nil then return 0 end
  if newLo > last then newLo = last end
  if newLo <= lo then return 0 end
  redis.call('ZREMRANGEBYSCORE', base .. ':i:' .. c, '-inf', '(' .. newLo)
  local p = base .. ':p:' .. c
  if redis.call('EXISTS', p) == 1 then
    for s = lo, newLo - 1 do redis.call('HDEL', p, s) end
  end
  redis.call('HSET', w, 'lo', newLo)
  return newLo - lo
end`;

/**
 * KEYS[1] meta. ARGV: prefix, expected epoch, expected checkpoint, new checkpoint, maxItems, the
 * number n of session writes, then four words per session write ('set'|'hset', key suffix under the
 * epoch, field, value: the values were computed by the sessions fold in hotSessions.ts), then five
 * per op: 'put'|'patch', conversation id, seq (target seq for a patch), time ms, JSON.
 * A put at or below the window's last seq was applied already and changes nothing.
 */
export const APPLY = `${TRIM_TO}
local meta = redis.call('HMGET', KEYS[1], 'epoch', 'checkpoint')
if meta[1] ~= ARGV[2] or meta[2] ~= ARGV[3] then return 0 end
local base = ARGV[1] .. ':e' .. ARGV[2]
local convs = base .. ':convs'
local maxItems = tonumber(ARGV[5])
-- Windows read once per conversation and written back once at the end (fewer calls per op).
local windows = {}
local function windowOf(c)
  local win = windows[c]
  if win == nil then
    local stored = redis.call('HMGET', base .. ':w:' .. c, 'lo', 'last')
    win = { lo = tonumber(stored[1]), last = tonumber(stored[2]), at = nil, changed = false }
    windows[c] = win
  end
  return win
end
local i = 7
for _ = 1, tonumber(ARGV[6]) do
  local kind, key, field, value = ARGV[i], base .. ':' .. ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
  i = i + 4
  if kind == 'set' then redis.call('SET', key, value) else redis.call('HSET', key, field, value) end
end
while i <= #ARGV do
  local kind, c, seq, at, json = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2]), tonumber(ARGV[i + 3]), ARGV[i + 4]
  i = i + 5
  local win = windowOf(c)
  if kind == 'put' then
    if win.last == nil or seq > win.last then
      if win.last == nil or seq ~= win.last + 1 then
        redis.call('DEL', base .. ':i:' .. c, base .. ':p:' .. c)
        win.lo = seq
      end
      redis.call('ZADD', base .. ':i:' .. c, seq, json)
      win.last = seq
      if win.at == nil or at > win.at then win.at = at end
      win.changed = true
    end
  elseif win.lo ~= nil and seq >= win.lo and seq <= win.last then
    local p = base .. ':p:' .. c
    local old = redis.call('HGET', p, seq)
    if old then
      redis.call('HSET', p, seq, string.sub(old, 1, -2) .. ',' .. json .. ']')
    else
      redis.call('HSET', p, seq, '[' .. json .. ']')
    end
  end
end
for c, win in pairs(windows) do
  if win.changed then
    redis.call('HSET', base .. ':w:' .. c, 'lo', win.lo, 'last', win.last)
    local act = tonumber(redis.call('ZSCORE', convs, c))
    if act == nil or win.at > act then redis.call('ZADD', convs, win.at, c) end
    trimBelow(base, c, win.last - maxItems + 1)
  end
end
redis.call('HSET', KEYS[1], 'checkpoint', ARGV[4])
return 1`;

/** KEYS[1] meta. ARGV: epoch. */
export const MARK_READY = `
if redis.call('HGET', KEYS[1], 'epoch') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'ready', '1')
return 1`;

/** KEYS[1] meta. ARGV: prefix, conversation id. Returns epoch, ready, lo, last ('' when absent); {} without state. */
export const WINDOW = `
local meta = redis.call('HMGET', KEYS[1], 'epoch', 'ready')
if not meta[1] then return {} end
local win = redis.call('HMGET', ARGV[1] .. ':e' .. meta[1] .. ':w:' .. ARGV[2], 'lo', 'last')
return {meta[1], meta[2] or '0', win[1] or '', win[2] or ''}`;

/**
 * KEYS[1] meta. ARGV: prefix, conversation id, after, before (-1: absent), limit. One round trip for a
 * history read: the window, and the items of the page (pageRange in historyRange.ts, computed with the
 * window's last seq as the head) that the window holds, with their patches.
 * Returns {} without state, else {epoch, ready, lo, last, n, item1..itemN, seq/patches pairs...}.
 */
export const PAGE = `
local meta = redis.call('HMGET', KEYS[1], 'epoch', 'ready')
if not meta[1] then return {} end
local base = ARGV[1] .. ':e' .. meta[1]
local win = redis.call('HMGET', base .. ':w:' .. ARGV[2], 'lo', 'last')
local reply = {meta[1], meta[2] or '0', win[1] or '', win[2] or ''}
local lo, last = tonumber(win[1]), tonumber(win[2])
if lo == nil or meta[2] ~= '1' then return reply end
local after, before, limit = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local from, to
if after >= 0 then
  from = after + 1
  to = math.min(last, after + limit)
  if before >= 0 then to = math.min(to, before - 1) end
else
  to = last
  if before >= 0 then to = math.min(to, before - 1) end
  from = math.max(1, to - limit + 1)
end
if from < lo then from = lo end
if from > to then
  reply[5] = 0
  return reply
end
local items = redis.call('ZRANGEBYSCORE', base .. ':i:' .. ARGV[2], from, to)
reply[5] = #items
for _, item in ipairs(items) do reply[#reply + 1] = item end
local p = base .. ':p:' .. ARGV[2]
if redis.call('EXISTS', p) == 1 then
  for s = from, to do
    local patches = redis.call('HGET', p, s)
    if patches then
      reply[#reply + 1] = tostring(s)
      reply[#reply + 1] = patches
    end
  end
end
return reply`;

/** KEYS[1] meta. ARGV: prefix, epoch, conversation id, new lo. Removes the seqs below new lo (never the last). */
export const TRIM = `${TRIM_TO}
if redis.call('HGET', KEYS[1], 'epoch') ~= ARGV[2] then return 0 end
return trimBelow(ARGV[1] .. ':e' .. ARGV[2], ARGV[3], tonumber(ARGV[4]))`;

/** KEYS[1] meta. ARGV: prefix, epoch, conversation id, cutoff ms. Drops the conversation if still idle past cutoff; -1 if not. */
export const DROP_IDLE = `
if redis.call('HGET', KEYS[1], 'epoch') ~= ARGV[2] then return -1 end
local base = ARGV[1] .. ':e' .. ARGV[2]
local act = tonumber(redis.call('ZSCORE', base .. ':convs', ARGV[3]))
if act == nil or act >= tonumber(ARGV[4]) then return -1 end
local z = base .. ':i:' .. ARGV[3]
local n = redis.call('ZCARD', z)
redis.call('DEL', z, base .. ':w:' .. ARGV[3], base .. ':p:' .. ARGV[3])
redis.call('ZREM', base .. ':convs', ARGV[3])
return n`;


/**
 * KEYS[1] meta. ARGV: prefix, user id, layout. One user's session rows and their conversations' states in one
 * snapshot. Returns {} without state, else {epoch, ready, c1, row1, state1 ('' when absent), ...}.
 */
export const SESSIONS = `
local meta = redis.call('HMGET', KEYS[1], 'epoch', 'ready', 'layout')
if not meta[1] or meta[3] ~= ARGV[3] then return {} end
local base = ARGV[1] .. ':e' .. meta[1]
local reply = {meta[1], meta[2] or '0'}
local rows = redis.call('HGETALL', base .. ':sr:' .. ARGV[2])
for j = 1, #rows, 2 do
  reply[#reply + 1] = rows[j]
  reply[#reply + 1] = rows[j + 1]
  reply[#reply + 1] = redis.call('GET', base .. ':sc:' .. rows[j]) or ''
end
return reply`;
