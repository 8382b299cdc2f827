import { luaScript } from './redis-state.ts';

// The Redis quota store's scripts: the same algorithm as MemoryQuotaStore (see there), run atomically.
// Per counter, KEYS carries three keys: its committed data (a hash of sliding buckets, or a string for one
// fixed window), a sorted set of hold ids scored by expiry, and a hash of hold id → amount with the live
// total in field "#". Amounts are integers; Lua sees them as doubles, exact below 2^53.

const COMMON = `
local now = tonumber(ARGV[1])
local hid = ARGV[2]

local function purge(z, h)
  local dead = redis.call('ZRANGEBYSCORE', z, '-inf', now)
  for _, m in ipairs(dead) do
    local a = redis.call('HGET', h, m)
    if a then
      redis.call('HINCRBY', h, '#', '-' .. a)
      redis.call('HDEL', h, m)
    end
  end
  if #dead > 0 then redis.call('ZREMRANGEBYSCORE', z, '-inf', now) end
  return tonumber(redis.call('HGET', h, '#') or '0')
end

local function commit(kind, d, amount, p1, p2)
  if kind == 1 then
    redis.call('HINCRBY', d, math.floor(now / p2), amount)
    redis.call('PEXPIRE', d, p1 + p2)
  elseif kind == 2 then
    redis.call('INCRBY', d, amount)
    redis.call('PEXPIREAT', d, p2 + ${3_600_000})
  end
end
`;

/**
 * ARGV: now, holdId, expiresAt, then per counter: kind (0 none, 1 sliding, 2 fixed), cap, amount,
 * hold (0/1), p1, p2 (sliding: ms, bucketMs; fixed: start, end).
 * Returns {1, used, reset, …} when admitted, {0, failedIndex, retryMs, used, reset, …} when refused.
 */
export const ACQUIRE = luaScript(
  COMMON +
    `
local exp = tonumber(ARGV[3])
local n = #KEYS / 3
local states = {}
local failed, retry = -1, 0
for i = 0, n - 1 do
  local d, z, h = KEYS[i * 3 + 1], KEYS[i * 3 + 2], KEYS[i * 3 + 3]
  local a = 4 + i * 6
  local kind, cap, amount = tonumber(ARGV[a]), tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2])
  local p1, p2 = tonumber(ARGV[a + 4]), tonumber(ARGV[a + 5])
  local held = purge(z, h)
  local committed, reset, live, nb = 0, 0, {}, 0
  if kind == 1 then
    nb = math.ceil(p1 / p2)
    local low = math.floor(now / p2) - nb + 1
    local flat = redis.call('HGETALL', d)
    for j = 1, #flat, 2 do
      local b = tonumber(flat[j])
      if b < low then
        redis.call('HDEL', d, flat[j])
      else
        local v = tonumber(flat[j + 1])
        committed = committed + v
        live[#live + 1] = { b, v }
      end
    end
    table.sort(live, function(x, y) return x[1] < y[1] end)
    if #live > 0 then reset = (live[1][1] + nb) * p2 - now end
  elseif kind == 2 then
    committed = tonumber(redis.call('GET', d) or '0')
    reset = p2 - now
  end
  local used = committed + held
  states[#states + 1] = used
  states[#states + 1] = math.max(0, reset)
  if failed < 0 and (used >= cap or used + amount > cap) then
    failed = i
    if kind == 2 then retry = p2 - now
    elseif kind == 1 and amount > cap then retry = p1
    elseif kind == 1 then
      retry = ${1_000}
      local need = math.max(used + amount - cap, used - cap + 1)
      local acc = 0
      for _, e in ipairs(live) do
        acc = acc + e[2]
        if acc >= need then
          retry = (e[1] + nb) * p2 - now
          break
        end
      end
    else retry = ${1_000} end
  end
end
if failed >= 0 then
  local out = { 0, failed, math.max(1, retry) }
  for _, v in ipairs(states) do out[#out + 1] = v end
  return out
end
local out = { 1 }
for i = 0, n - 1 do
  local d, z, h = KEYS[i * 3 + 1], KEYS[i * 3 + 2], KEYS[i * 3 + 3]
  local a = 4 + i * 6
  local kind, amount = tonumber(ARGV[a]), tonumber(ARGV[a + 2])
  if amount > 0 then
    if ARGV[a + 3] == '1' then
      redis.call('ZADD', z, exp, hid)
      redis.call('HSET', h, hid, ARGV[a + 2])
      redis.call('HINCRBY', h, '#', ARGV[a + 2])
      redis.call('PEXPIREAT', z, exp + ${60_000})
      redis.call('PEXPIREAT', h, exp + ${60_000})
    else
      commit(kind, d, ARGV[a + 2], tonumber(ARGV[a + 4]), tonumber(ARGV[a + 5]))
    end
  end
  local reset = states[i * 2 + 2]
  if reset == 0 and amount > 0 and kind == 1 and ARGV[a + 3] ~= '1' then
    local bm = tonumber(ARGV[a + 5])
    reset = (math.floor(now / bm) + math.ceil(tonumber(ARGV[a + 4]) / bm)) * bm - now
  end
  out[#out + 1] = states[i * 2 + 1] + amount
  out[#out + 1] = reset
end
return out
`,
);

/** ARGV: now, holdId, then per counter: kind, actual, p1, p2. Drops the hold, commits the actual amount. */
export const SETTLE = luaScript(
  COMMON +
    `
for i = 0, #KEYS / 3 - 1 do
  local d, z, h = KEYS[i * 3 + 1], KEYS[i * 3 + 2], KEYS[i * 3 + 3]
  local a = 3 + i * 4
  local held = redis.call('HGET', h, hid)
  if held then
    redis.call('HDEL', h, hid)
    redis.call('HINCRBY', h, '#', '-' .. held)
    redis.call('ZREM', z, hid)
  end
  if tonumber(ARGV[a + 1]) > 0 then
    commit(tonumber(ARGV[a]), d, ARGV[a + 1], tonumber(ARGV[a + 2]), tonumber(ARGV[a + 3]))
  end
end
return 1
`,
);
