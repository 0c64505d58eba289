-- Settle one reservation: in each bucket, replace its estimate by what the request used, where it
-- was reserved (the window slot if still in the window; the budget period if still current).
-- KEYS: 1 reservations ZSET, 2 reservations HASH, 3.. one per bucket.
-- ARGV: 1 reservation id, then five per bucket: kind ('w' | 'b'), mark, estimate, actual,
-- window ms | alert threshold (-1: none).
-- Returns 1 when a budget's spending crossed its alert threshold, else 0.
local now = now_ms()
local live = redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
local alert = 0
for i = 1, #KEYS - 2 do
  local key, at = KEYS[i + 2], 2 + (i - 1) * 5
  local kind, mark = ARGV[at], ARGV[at + 1]
  local estimate, actual, extra = tonumber(ARGV[at + 2]), tonumber(ARGV[at + 3]), tonumber(ARGV[at + 4])
  if kind == 'w' then
    local slot_ms = math.max(1, math.floor(extra / 60))
    if tonumber(mark) + 60 > math.floor(now / slot_ms) and redis.call('HEXISTS', key, mark) == 1 then
      if redis.call('HINCRBY', key, mark, fmt(actual - estimate)) < 0 then redis.call('HSET', key, mark, 0) end
    end
  elseif redis.call('HGET', key, 'p') == mark then
    local before = tonumber(redis.call('HGET', key, 's')) or 0
    if live == 1 then
      if redis.call('HINCRBY', key, 'r', fmt(-estimate)) < 0 then redis.call('HSET', key, 'r', 0) end
      redis.call('HINCRBY', key, 's', fmt(actual))
    elseif redis.call('HINCRBY', key, 's', fmt(actual - estimate)) < 0 then
      -- It expired and was charged its estimate already: only the difference is left.
      redis.call('HSET', key, 's', 0)
    end
    local after = tonumber(redis.call('HGET', key, 's')) or 0
    if extra >= 0 and before < extra and after >= extra then alert = 1 end
  end
end
return alert
