import { FIXED_GRACE_MS, UNKNOWN_RETRY_MS } from './quota-memory.ts';
import { luaScript } from './redis-state.ts';

// The Redis quota store's script: the same algorithm as MemoryQuotaStore (see there), run atomically.
//
// One call carries a batch of operations (the acquisitions and settlements of every request that reached
// the store in one event-loop turn), applied in order, each as if it ran alone: an acquisition is all or
// nothing over its own counters. Every operation of a call sees one instant, so each key is read (and
// pruned) once per call, and writes to a key are gathered and issued once at the end.
//
// Per counter, KEYS carries three keys:
//   data   sliding: a hash of bucket index → amount plus "#t" (total), "#lo"/"#hi" (oldest/newest bucket);
//          fixed: a string, the window's total;
//   holds  a sorted set of hold ids scored by expiry;
//   amounts a hash of hold id → amount, with the live total in field "#".
// Amounts are integers; Lua sees them as doubles, exact below 2^53, and writes them with all their digits.
// Bucket indices (time / bucketMs) stay far below 10^14, so they print the same either way.

const SCRIPT = `
-- Globals as locals: a global is a table lookup at every use.
local KEYS, tonumber, unpack, ipairs = KEYS, tonumber, unpack, ipairs
-- Everything but the keys comes as one JSON array (one argument parses much faster than hundreds).
local A = cjson.decode(ARGV[1])
local floor, ceil, max, min, format = math.floor, math.ceil, math.max, math.min, string.format
local call = redis.call

local now = A[1]
local exp = A[2]
local UNKNOWN = ${UNKNOWN_RETRY_MS}

-- Integers written to Redis: exact digits (tostring would give 14 significant digits).
local function int(v) return format('%.0f', v) end

local S, Sorder = {}, {}
local F, Forder = {}, {}
local H, Horder = {}, {}

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

local function slide(d, ms, bm)
  local s = S[d]
  if s then return s end
  local nb = ceil(ms / bm)
  local low = floor(now / bm) - nb + 1
  s = { t = 0, lo = 0, hi = 0, nb = nb, bm = bm, ms = ms, empty = true, meta = false, inc = {}, incOrder = {} }
  S[d] = s
  Sorder[#Sorder + 1] = d
  local m = call('HMGET', d, '#t', '#lo', '#hi')
  local t, lo, hi = tonumber(m[1]), tonumber(m[2]), tonumber(m[3])
  if t == nil or lo == nil or hi == nil then
    if call('EXISTS', d) == 1 then rebuild(d, s, low) end
    return s
  end
  if hi < low or t <= 0 then
    call('DEL', d)
    return s
  end
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
  local b = floor(now / s.bm)
  if s.inc[b] == nil then
    s.inc[b] = 0
    s.incOrder[#s.incOrder + 1] = b
  end
  s.inc[b] = s.inc[b] + amount
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
local function slideRetry(d, s, need)
  if s.empty then return UNKNOWN end
  local acc = 0
  local top = min(s.hi, s.lo + 4 * s.nb)
  local b = s.lo
  while b <= top do
    local chunk = range(b, min(top, b + 63))
    local vals = call('HMGET', d, unpack(chunk))
    for j = 1, #chunk do
      local v = (tonumber(vals[j]) or 0) + (s.inc[chunk[j]] or 0)
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
  local f = F[d]
  if f then return f end
  f = { v = tonumber(call('GET', d) or '0'), inc = 0, stop = 0 }
  F[d] = f
  Forder[#Forder + 1] = d
  return f
end

-- The holds on a counter, with the expired ones dropped.
local function holds(z, h)
  local x = H[h]
  if x then return x end
  local held = tonumber(call('HGET', h, '#') or '0')
  local dead = call('ZRANGEBYSCORE', z, '-inf', now)
  for j = 1, #dead, 1000 do
    local chunk = { unpack(dead, j, min(#dead, j + 999)) }
    local amounts = call('HMGET', h, unpack(chunk))
    for i = 1, #chunk do
      if amounts[i] then held = held - tonumber(amounts[i]) end
    end
    call('HDEL', h, unpack(chunk))
  end
  if #dead > 0 then call('ZREMRANGEBYSCORE', z, '-inf', now) end
  x = { z = z, held = held, add = {}, addOrder = {}, del = {}, dirty = #dead > 0 }
  H[h] = x
  Horder[#Horder + 1] = h
  return x
end

local function holdAdd(x, hid, amount)
  local cur = x.add[hid]
  if cur == nil then x.addOrder[#x.addOrder + 1] = hid end
  x.add[hid] = (cur or 0) + amount
  x.held = x.held + amount
  x.dirty = true
end

local function holdRelease(x, h, hid)
  local a = x.add[hid]
  if a then
    x.add[hid] = false
  else
    local v = call('HGET', h, hid)
    if not v then return end
    a = tonumber(v)
    x.del[#x.del + 1] = hid
  end
  x.held = x.held - a
  x.dirty = true
end

local function commit(kind, d, amount, p1, p2)
  if kind == 1 then
    slideAdd(slide(d, p1, p2), amount)
  elseif kind == 2 then
    local f = fixed(d)
    f.v = f.v + amount
    f.inc = f.inc + amount
    if p2 > f.stop then f.stop = p2 end
  end
end

-- The counters of this call: KEYS[3i-2..3i] (data, holds, amounts) and kind, p1, p2 each.
local nc = A[3]
local CK, CP1, CP2 = {}, {}, {}
for i = 1, nc do
  CK[i] = A[1 + i * 3]
  CP1[i] = A[2 + i * 3]
  CP2[i] = A[3 + i * 3]
end
local CH = {}
local function holdsOf(i)
  local x = CH[i]
  if x then return x end
  x = holds(KEYS[i * 3 - 1], KEYS[i * 3])
  CH[i] = x
  return x
end

local out = {}
local a = 4 + nc * 3
local last = #A
while a <= last do
  local op, hid, n = A[a], A[a + 1], A[a + 2]
  a = a + 3
  if op == 'A' then
    local ids, used, reset = {}, {}, {}
    local failed, retry = -1, 0
    for i = 1, n do
      local b = a + (i - 1) * 4
      local c, cap, amount = A[b], A[b + 1], A[b + 2]
      ids[i] = c
      local kind, p1, p2 = CK[c], CP1[c], CP2[c]
      local x = holdsOf(c)
      local committed, rs = 0, 0
      if kind == 1 then
        local s = slide(KEYS[c * 3 - 2], p1, p2)
        committed = s.t
        if not s.empty then rs = (s.lo + s.nb) * s.bm - now end
      elseif kind == 2 then
        committed = fixed(KEYS[c * 3 - 2]).v
        rs = p2 - now
      end
      local u = committed + x.held
      -- The same counter named earlier in this acquisition counts its amount first.
      for j = 1, i - 1 do
        if ids[j] == c then u = u + A[a + (j - 1) * 4 + 2] end
      end
      used[i] = u
      reset[i] = max(0, rs)
      if failed < 0 and (u >= cap or u + amount > cap) then
        failed = i - 1
        if kind == 2 then retry = p2 - now
        elseif kind == 1 and amount > cap then retry = p1
        elseif kind == 1 then
          local d = KEYS[c * 3 - 2]
          retry = slideRetry(d, S[d], max(u + amount - cap, u - cap + 1))
        else retry = UNKNOWN end
      end
    end
    if failed >= 0 then
      out[#out + 1] = 0
      out[#out + 1] = failed
      out[#out + 1] = max(1, retry)
      for i = 1, n do
        out[#out + 1] = used[i]
        out[#out + 1] = reset[i]
      end
    else
      out[#out + 1] = 1
      for i = 1, n do
        local b = a + (i - 1) * 4
        local c = ids[i]
        local kind, p1, p2 = CK[c], CP1[c], CP2[c]
        local amount = A[b + 2]
        local hold = A[b + 3] == 1
        if amount > 0 then
          if hold then holdAdd(holdsOf(c), hid, amount)
          else commit(kind, KEYS[c * 3 - 2], amount, p1, p2) end
        end
        local r = reset[i]
        if r == 0 and amount > 0 and kind == 1 and not hold then
          r = (floor(now / p2) + ceil(p1 / p2)) * p2 - now
        end
        out[#out + 1] = used[i] + amount
        out[#out + 1] = r
      end
    end
    a = a + n * 4
  else
    for i = 1, n do
      local b = a + (i - 1) * 2
      local c = A[b]
      holdRelease(holdsOf(c), KEYS[c * 3], hid)
      local actual = A[b + 1]
      if actual > 0 then commit(CK[c], KEYS[c * 3 - 2], actual, CP1[c], CP2[c]) end
    end
    a = a + n * 2
  end
end

for _, d in ipairs(Sorder) do
  local s = S[d]
  if s.meta then
    for _, b in ipairs(s.incOrder) do call('HINCRBY', d, b, int(s.inc[b])) end
    if s.empty then
      call('DEL', d)
    else
      call('HSET', d, '#t', int(s.t), '#lo', s.lo, '#hi', s.hi)
      if #s.incOrder > 0 then call('PEXPIRE', d, int(s.ms + s.bm)) end
    end
  end
end
for _, d in ipairs(Forder) do
  local f = F[d]
  if f.inc > 0 then
    call('INCRBY', d, int(f.inc))
    call('PEXPIREAT', d, int(f.stop + ${FIXED_GRACE_MS}))
  end
end
for _, h in ipairs(Horder) do
  local x = H[h]
  if x.dirty then
    if #x.del > 0 then
      call('HDEL', h, unpack(x.del))
      call('ZREM', x.z, unpack(x.del))
    end
    local za, ha = {}, { '#', int(x.held) }
    for _, hid in ipairs(x.addOrder) do
      local amount = x.add[hid]
      if amount then
        za[#za + 1] = int(exp)
        za[#za + 1] = hid
        ha[#ha + 1] = hid
        ha[#ha + 1] = int(amount)
      end
    end
    call('HSET', h, unpack(ha))
    if #za > 0 then
      call('ZADD', x.z, unpack(za))
      call('PEXPIREAT', x.z, int(exp + ${60_000}))
      call('PEXPIREAT', h, int(exp + ${60_000}))
    end
  end
end
return out
`;

/**
 * ARGV[1]: a JSON array: now, expiresAt (of new holds), the number of counters c, then per counter: kind (0 none,
 * 1 sliding, 2 fixed), p1, p2 (sliding: ms, bucketMs; fixed: start, end); then operations in order:
 *   acquire: "A", holdId, n, then n × (counter number 1…c, cap, amount, hold 0/1);
 *   settle:  "S", holdId, n, then n × (counter number, actual): drops the hold, commits the actual.
 * KEYS: three per counter (data, holds, amounts), each counter once however many operations name it.
 * Returns, per acquisition in order: 1, (used, reset) × n when admitted; 0, failedIndex, retryMs,
 * (used, reset) × n when refused. Settlements return nothing.
 */
export const QUOTA_BATCH = luaScript(SCRIPT);
