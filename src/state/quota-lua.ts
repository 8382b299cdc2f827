import { FIXED_GRACE_MS, UNKNOWN_RETRY_MS } from './quota-memory.ts';
import { luaScript } from './redis-state.ts';

// The Redis quota store's script: the same algorithm as MemoryQuotaStore (see there), run atomically.
//
// One call carries a batch of operations (the acquisitions and settlements of every request that reached
// the store in one event-loop turn), applied in order, each as if it ran alone: an acquisition is all or
// nothing over its own counters. Every operation of a call sees one instant, so each key is read (and
// pruned) once per call, and writes to a key are gathered and issued once at the end.
//
// Reservations (holds) are kept per replica, not per request: each replica's share of a counter's holds is
// one field, so a request costs the script arithmetic only, whatever number of requests is in flight. The
// replica knows its own requests' reservations and sends them back when it settles; a share expires when
// its replica stops refreshing it (it died), and a replica that may have lost track (a call that timed out)
// resets its share to what it knows.
//
// Per counter, KEYS carries two keys:
//   data    sliding: a hash of bucket index → amount plus "#t" (total), "#lo"/"#hi" (oldest/newest bucket);
//           fixed: a string, the window's total;
//   shares  a hash of replica id → its share of the holds, "@" .. replica id → when that share expires,
//           and "#x" → when the key itself expires (so its expiry is pushed forward only now and then).
// Amounts are integers; Lua sees them as doubles, exact below 2^53, and writes them with all their digits.
// Bucket indices (time / bucketMs) stay far below 10^14, so they print the same either way.
//
// Writes are few by design (each redis.call costs about a microsecond here): a sliding window's bucket and
// totals go in one HSET and its expiry is set only when a new bucket starts; a fixed window's expiry only
// when its key is created.

const SCRIPT = `
-- Globals as locals: a global is a table lookup at every use.
local KEYS, tonumber, unpack, pairs, ipairs = KEYS, tonumber, unpack, pairs, ipairs
-- Everything but the keys comes as one JSON array (one argument parses much faster than hundreds).
local A = cjson.decode(ARGV[1])
local floor, ceil, max, min, format, byte, sub = math.floor, math.ceil, math.max, math.min, string.format, string.byte, string.sub
local call = redis.call

local now = A[1]
local exp = A[2]
local rid = A[3]
local erid = '@' .. rid
local UNKNOWN = ${UNKNOWN_RETRY_MS}

-- Integers written to Redis: exact digits (tostring would give 14 significant digits).
local function int(v) return format('%.0f', v) end

local Slides, Fixed, Shares = {}, {}, {}

local function range(from, to)
  local t = {}
  for b = from, to do t[#t + 1] = b end
  return t
end

-- Rebuilds a sliding hash's total and range from all its fields (a key far out of step with the clock).
local function rebuild(d, s, low)
  local flat = call('HGETALL', d)
  local dead = {}
  local t, lo, hi = 0, nil, nil
  for j = 1, #flat, 2 do
    local b = tonumber(flat[j])
    if b ~= nil then
      if b < low then
        dead[#dead + 1] = flat[j]
      else
        t = t + tonumber(flat[j + 1])
        if lo == nil or b < lo then lo = b end
        if hi == nil or b > hi then hi = b end
        if b == s.b then s.cur = tonumber(flat[j + 1]) end
      end
    end
  end
  for j = 1, #dead, 1000 do call('HDEL', d, unpack(dead, j, min(#dead, j + 999))) end
  if lo == nil then
    s.empty = true
  else
    s.t, s.lo, s.hi, s.empty = t, lo, hi, false
  end
  s.meta = true
end

-- A sliding window's state: total t over buckets lo..hi, the current bucket b (value cur, plus inc added
-- by this call).
local function slide(d, ms, bm)
  local nb = ceil(ms / bm)
  local b = floor(now / bm)
  local low = b - nb + 1
  local s = { d = d, t = 0, lo = 0, hi = 0, nb = nb, bm = bm, ms = ms, b = b, cur = 0, inc = 0, empty = true, meta = false }
  Slides[#Slides + 1] = s
  local m = call('HMGET', d, '#t', '#lo', '#hi', b)
  local t, lo, hi = tonumber(m[1]), tonumber(m[2]), tonumber(m[3])
  if t == nil or lo == nil or hi == nil then
    if call('EXISTS', d) == 1 then rebuild(d, s, low) end
    return s
  end
  if hi < low or t <= 0 then
    call('DEL', d)
    return s
  end
  s.cur = tonumber(m[4] or '0')
  if low - lo > 2 * nb or hi - low > 2 * nb then
    rebuild(d, s, low)
    return s
  end
  if lo < low then
    -- Buckets [lo, low) have left the window.
    local fields = range(lo, low - 1)
    local vals = call('HMGET', d, unpack(fields))
    local dead = {}
    for j = 1, #fields do
      if vals[j] then
        t = t - tonumber(vals[j])
        dead[#dead + 1] = fields[j]
      end
    end
    if #dead > 0 then call('HDEL', d, unpack(dead)) end
    -- The oldest bucket still present (hi is).
    lo = low
    while lo < hi do
      local chunk = range(lo, min(hi, lo + 7))
      local cv = call('HMGET', d, unpack(chunk))
      local found = nil
      for j = 1, #chunk do
        if cv[j] then
          found = chunk[j]
          break
        end
      end
      if found then
        lo = found
        break
      end
      lo = chunk[#chunk] + 1
    end
    if lo > hi then lo = hi end
    s.meta = true
  end
  s.t, s.lo, s.hi, s.empty = t, lo, hi, false
  return s
end

local function slideAdd(s, amount)
  local b = s.b
  s.inc = s.inc + amount
  if s.empty then
    s.lo, s.hi, s.empty = b, b, false
  else
    if b < s.lo then s.lo = b end
    if b > s.hi then s.hi = b end
  end
  s.t = s.t + amount
  s.meta = true
end

-- ms until enough has left the window for need more to fit.
local function slideRetry(s, need)
  if s.empty then return UNKNOWN end
  local acc = 0
  local top = min(s.hi, s.lo + 4 * s.nb)
  local b = s.lo
  while b <= top do
    local chunk = range(b, min(top, b + 63))
    local vals = call('HMGET', s.d, unpack(chunk))
    for j = 1, #chunk do
      local v = tonumber(vals[j]) or 0
      if chunk[j] == s.b then v = v + s.inc end
      if v > 0 then
        acc = acc + v
        if acc >= need then return (chunk[j] + s.nb) * s.bm - now end
      end
    end
    b = b + 64
  end
  return UNKNOWN
end

local function fixed(d)
  local f = Fixed[d]
  if f then return f end
  local v = call('GET', d)
  f = { d = d, v = tonumber(v or '0'), fresh = not v, inc = 0, stop = 0 }
  Fixed[d] = f
  Fixed[#Fixed + 1] = f
  return f
end

-- A counter's holds: the total of the live shares (held) and this replica's (mine). Shares whose expiry
-- has passed (their replica stopped refreshing them: it died) are dropped.
local function shares(h)
  local x = Shares[h]
  if x then return x end
  local flat = call('HGETALL', h)
  local amounts, expiries = {}, {}
  local keyExp = nil
  for j = 1, #flat, 2 do
    local f = flat[j]
    local c = byte(f, 1)
    if c == 64 then expiries[sub(f, 2)] = tonumber(flat[j + 1])
    elseif c == 35 then keyExp = tonumber(flat[j + 1])
    else amounts[f] = tonumber(flat[j + 1]) end
  end
  local held, mine, dead = 0, 0, nil
  for r, amount in pairs(amounts) do
    local e = expiries[r]
    if e == nil or e <= now then
      dead = dead or {}
      dead[#dead + 1] = r
      dead[#dead + 1] = '@' .. r
    else
      held = held + amount
      if r == rid then mine = amount end
    end
  end
  if dead then call('HDEL', h, unpack(dead)) end
  x = { h = h, held = held, mine = mine, keyExp = keyExp, dirty = false }
  Shares[h] = x
  Shares[#Shares + 1] = x
  return x
end

local function commit(kind, state, amount, p2)
  if kind == 1 then
    slideAdd(state, amount)
  elseif kind == 2 then
    state.v = state.v + amount
    state.inc = state.inc + amount
    if p2 > state.stop then state.stop = p2 end
  end
end

-- The counters of this call: KEYS[2i-1], KEYS[2i] (data, shares) and kind, p1, p2 each; their states are
-- read on first use.
local nc = A[4]
local CK, CP1, CP2, CD, CX = {}, {}, {}, {}, {}
for i = 1, nc do
  CK[i] = A[2 + i * 3]
  CP1[i] = A[3 + i * 3]
  CP2[i] = A[4 + i * 3]
end
local function dataOf(c)
  local state = CD[c]
  if state == nil then
    local kind = CK[c]
    if kind == 1 then state = slide(KEYS[c * 2 - 1], CP1[c], CP2[c])
    elseif kind == 2 then state = fixed(KEYS[c * 2 - 1])
    else state = false end
    CD[c] = state
  end
  return state
end
local function sharesOf(c)
  local x = CX[c]
  if x == nil then
    x = shares(KEYS[c * 2])
    CX[c] = x
  end
  return x
end

local out = {}
local o = 0
local a = 5 + nc * 3
local last = #A
while a <= last do
  local op, n = A[a], A[a + 1]
  a = a + 2
  if op == 1 then
    -- Acquire: n × (counter, cap, amount, hold). used and reset go out at once; a refusal rewrites them
    -- after its three leading numbers.
    local start = o
    o = o + 1
    local failed, retry = -1, 0
    for i = 1, n do
      local b = a + (i - 1) * 4
      local c, cap, amount = A[b], A[b + 1], A[b + 2]
      local kind = CK[c]
      local state = dataOf(c)
      local committed, rs = 0, 0
      if kind == 1 then
        committed = state.t
        if not state.empty then rs = (state.lo + state.nb) * state.bm - now end
      elseif kind == 2 then
        committed = state.v
        rs = CP2[c] - now
      end
      local u = committed + sharesOf(c).held
      -- The same counter named earlier in this acquisition counts its amount first.
      for j = a, b - 4, 4 do
        if A[j] == c then u = u + A[j + 2] end
      end
      out[o + 1] = u
      out[o + 2] = max(0, rs)
      o = o + 2
      if failed < 0 and (u >= cap or u + amount > cap) then
        failed = i - 1
        if kind == 2 then retry = CP2[c] - now
        elseif kind == 1 and amount > cap then retry = CP1[c]
        elseif kind == 1 then retry = slideRetry(state, max(u + amount - cap, u - cap + 1))
        else retry = UNKNOWN end
      end
    end
    if failed >= 0 then
      -- 0, failed, retry, then (used, reset) × n: shift the pairs up by two.
      for j = o, start + 2, -1 do out[j + 2] = out[j] end
      out[start + 1] = 0
      out[start + 2] = failed
      out[start + 3] = max(1, retry)
      o = o + 2
    else
      out[start + 1] = 1
      for i = 1, n do
        local b = a + (i - 1) * 4
        local c, amount = A[b], A[b + 2]
        local kind = CK[c]
        if amount > 0 then
          local k = start + 2 * i
          out[k] = out[k] + amount
          if A[b + 3] == 1 then
            local x = sharesOf(c)
            x.held = x.held + amount
            x.mine = x.mine + amount
            x.dirty = true
          else
            commit(kind, CD[c], amount, CP2[c])
            -- Counted from now on: the reset is when this request's bucket leaves the window.
            if out[k + 1] == 0 and kind == 1 then
              local p1, p2 = CP1[c], CP2[c]
              out[k + 1] = (floor(now / p2) + ceil(p1 / p2)) * p2 - now
            end
          end
        end
      end
    end
    a = a + n * 4
  elseif op == 2 then
    -- Settle: n × (counter, reserved, actual): gives back what this replica reserved, commits the actual.
    for i = 1, n do
      local b = a + (i - 1) * 3
      local c, reserved, actual = A[b], A[b + 1], A[b + 2]
      if reserved > 0 then
        local x = sharesOf(c)
        -- Never more than this replica still holds there (its share lapses if it stops refreshing).
        if reserved > x.mine then reserved = x.mine end
        if reserved > 0 then
          x.held = x.held - reserved
          x.mine = x.mine - reserved
          x.dirty = true
        end
      end
      if actual > 0 then commit(CK[c], dataOf(c), actual, CP2[c]) end
    end
    a = a + n * 3
  elseif op == 3 then
    -- Resync: n × (counter, held): this replica's share becomes what it knows it holds (and lives
    -- another TTL).
    for i = 1, n do
      local b = a + (i - 1) * 2
      local x = sharesOf(A[b])
      if A[b + 1] ~= x.mine or x.mine > 0 then
        x.held = x.held - x.mine + A[b + 1]
        x.mine = A[b + 1]
        x.dirty = true
      end
    end
    a = a + n * 2
  else
    -- Refresh: n × counter: this replica's share lives another TTL.
    for i = 1, n do
      local x = sharesOf(A[a + i - 1])
      if x.mine > 0 then x.dirty = true end
    end
    a = a + n
  end
end

for _, s in ipairs(Slides) do
  if s.meta then
    if s.empty then
      call('DEL', s.d)
    elseif s.inc > 0 then
      call('HSET', s.d, s.b, int(s.cur + s.inc), '#t', int(s.t), '#lo', s.lo, '#hi', s.hi)
      -- The key lives until its newest bucket has left the window: set when that bucket starts.
      if s.cur == 0 then call('PEXPIRE', s.d, int(s.ms + s.bm)) end
    else
      call('HSET', s.d, '#t', int(s.t), '#lo', s.lo, '#hi', s.hi)
    end
  end
end
for _, f in ipairs(Fixed) do
  if f.inc > 0 then
    call('INCRBY', f.d, int(f.inc))
    if f.fresh then call('PEXPIREAT', f.d, int(f.stop + ${FIXED_GRACE_MS})) end
  end
end
for _, x in ipairs(Shares) do
  if x.dirty then
    if x.mine > 0 then
      -- The key outlives every share in it by a minute; pushed forward when that margin falls below 30 s.
      if x.keyExp == nil or x.keyExp < exp + ${30_000} then
        x.keyExp = exp + ${60_000}
        call('HSET', x.h, rid, int(x.mine), erid, int(exp), '#x', int(x.keyExp))
        call('PEXPIREAT', x.h, int(x.keyExp))
      else
        call('HSET', x.h, rid, int(x.mine), erid, int(exp))
      end
    elseif x.held > 0 then
      call('HDEL', x.h, rid, erid)
    else
      call('DEL', x.h)
    end
  end
end
return out
`;

/**
 * ARGV[1]: a JSON array: now, expiresAt (of the shares written), replica id, the number of counters c, then
 * per counter: kind (0 none, 1 sliding, 2 fixed), p1, p2 (sliding: ms, bucketMs; fixed: start, end); then
 * operations in order, each an opcode and a count n:
 *   1 acquire: n × (counter number 1…c, cap, amount, hold 0/1);
 *   2 settle:  n × (counter number, reserved, actual): gives back the reservation, commits the actual;
 *   3 resync:  n × (counter number, held): sets this replica's share;
 *   4 refresh: n × counter number: pushes this replica's share's expiry to expiresAt.
 * KEYS: two per counter (data, shares), each counter once however many operations name it.
 * Returns, per acquisition in order: 1, (used, reset) × n when admitted; 0, failedIndex, retryMs,
 * (used, reset) × n when refused. Other operations return nothing.
 */
export const QUOTA_BATCH = luaScript(SCRIPT);
