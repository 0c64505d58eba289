-- What a budget has spent in its current period. KEYS: 1 the budget. ARGV: 1 its reset spec.
local start = period(ARGV[1], now_ms())
if redis.call('HGET', KEYS[1], 'p') == fmt(start) then
  return tonumber(redis.call('HGET', KEYS[1], 's')) or 0
end
return 0
