-- Reserve, all or nothing, in every bucket of one request.
-- KEYS: 1 reservations (ZSET id -> expiry), 2 reservations (HASH id -> budget parts), 3.. one per bucket.
-- ARGV: 1 reservation id, 2 expiry (ms), then four per bucket: kind ('w' window | 'b' budget), limit,
-- amount, window ms | reset spec.
-- Returns {1, mark...} (each bucket's window slot or budget period start), or {0, code, wait}: code 1
-- rate limited (wait: ms until it has room), 2 exhausted (ms until the period ends, -1: never), 3 disabled.
local now = now_ms()
purge(KEYS[1], KEYS[2], now)
local n = #KEYS - 2
local worst, wait, worst_eff = 0, 0, -1
local marks = {}
for i = 1, n do
  local key, at = KEYS[i + 2], 3 + (i - 1) * 4
  local kind, limit, spec = ARGV[at], tonumber(ARGV[at + 1]), ARGV[at + 3]
  local code, value = 0, 0
  if kind == 'w' then
    local slot_ms = math.max(1, math.floor(tonumber(spec) / 60))
    local cur = math.floor(now / slot_ms)
    local fields = redis.call('HGETALL', key)
    local used, live = 0, {}
    for j = 1, #fields, 2 do
      local id, v = tonumber(fields[j]), tonumber(fields[j + 1])
      if id <= cur and id + 60 > cur then
        used = used + v
        live[id] = v
      else
        redis.call('HDEL', key, fields[j])
      end
    end
    marks[i] = cur
    if limit == 0 then
      code = 3
    elseif used >= limit then
      code, value = 1, 60 * slot_ms
      local left = 0
      for id = cur - 59, cur do
        left = left + (live[id] or 0)
        if used - left < limit then
          value = (id + 60) * slot_ms - now
          break
        end
      end
    end
  else
    local start, stop = period(spec, now)
    local stored = redis.call('HMGET', key, 'p', 's', 'r')
    local spent, reserved = 0, 0
    if stored[1] == fmt(start) then
      spent, reserved = tonumber(stored[2]) or 0, tonumber(stored[3]) or 0
    end
    marks[i] = start
    if spent + reserved >= limit then
      code = 2
      value = (stop < 0) and -1 or (stop - now)
    end
  end
  local eff = (value < 0) and math.huge or value
  if code > worst or (code > 0 and code == worst and eff > worst_eff) then
    worst, wait, worst_eff = code, value, eff
  end
end
if worst > 0 then return {0, worst, wait} end
local reply, held, longest = {1}, '', 0
for i = 1, n do
  local key, at = KEYS[i + 2], 3 + (i - 1) * 4
  local kind, amount, spec = ARGV[at], ARGV[at + 2], ARGV[at + 3]
  if kind == 'w' then
    redis.call('HINCRBY', key, fmt(marks[i]), amount)
    redis.call('PEXPIRE', key, fmt(2 * tonumber(spec)))
  else
    local start, stop = period(spec, now)
    if redis.call('HGET', key, 'p') ~= fmt(start) then
      redis.call('HSET', key, 'p', fmt(start), 's', 0, 'r', 0)
    end
    redis.call('HINCRBY', key, 'r', amount)
    -- A budget that never resets is kept 400 days after its last use; others a day past their period.
    local ttl = (stop < 0) and (400 * DAY) or (stop + DAY - now)
    redis.call('PEXPIRE', key, fmt(ttl))
    longest = math.max(longest, ttl)
    held = held .. key .. '|' .. fmt(start) .. '|' .. amount .. ';'
  end
  reply[#reply + 1] = marks[i]
end
if held ~= '' then
  local expiry = tonumber(ARGV[2])
  redis.call('ZADD', KEYS[1], fmt(now + expiry), ARGV[1])
  redis.call('HSET', KEYS[2], ARGV[1], held)
  -- The index outlives every budget it names, so an expired reservation is always purged.
  longest = math.max(longest, 2 * expiry)
  for k = 1, 2 do
    if redis.call('PTTL', KEYS[k]) < longest then redis.call('PEXPIRE', KEYS[k], fmt(longest)) end
  end
end
return reply
