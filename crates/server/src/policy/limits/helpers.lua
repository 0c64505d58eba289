-- Switchboard key limits, shared through Redis: the helpers every script below starts with.
-- This restates switchboard-core's limits arithmetic (crates/core/src/limits): 60-slot rolling
-- windows, budgets per UTC period, admission while spent + reserved is below the limit. Time is
-- the Redis server's (TIME), so instances with skewed clocks still agree. Numbers written back
-- go through fmt (no exponent notation).

local DAY = 86400000

local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

local function fmt(n)
  return string.format('%d', n)
end

local function days_from_civil(y, m, d)
  if m <= 2 then y = y - 1 end
  local era = math.floor(y / 400)
  local yoe = y - era * 400
  local mp = (m > 2) and (m - 3) or (m + 9)
  local doy = math.floor((153 * mp + 2) / 5) + d - 1
  local doe = yoe * 365 + math.floor(yoe / 4) - math.floor(yoe / 100) + doy
  return era * 146097 + doe - 719468
end

local function civil_from_days(z)
  z = z + 719468
  local era = math.floor(z / 146097)
  local doe = z - era * 146097
  local yoe = math.floor((doe - math.floor(doe / 1460) + math.floor(doe / 36524) - math.floor(doe / 146096)) / 365)
  local doy = doe - (365 * yoe + math.floor(yoe / 4) - math.floor(yoe / 100))
  local mp = math.floor((5 * doy + 2) / 153)
  local m = (mp < 10) and (mp + 3) or (mp - 9)
  local y = yoe + era * 400
  if m <= 2 then y = y + 1 end
  return y, m
end

-- The period of a reset ('never', 'monthly', 'weekly', 'd:N') holding now: start, end (-1: none).
local function period(spec, now)
  local day = math.floor(now / DAY)
  if spec == 'never' then return 0, -1 end
  if spec == 'monthly' then
    local y, m = civil_from_days(day)
    local ny, nm = y, m + 1
    if m == 12 then ny, nm = y + 1, 1 end
    return days_from_civil(y, m, 1) * DAY, days_from_civil(ny, nm, 1) * DAY
  end
  if spec == 'weekly' then
    local start = day - (day + 3) % 7
    return start * DAY, (start + 7) * DAY
  end
  local n = tonumber(string.sub(spec, 3))
  local start = math.floor(day / n) * n
  return start * DAY, (start + n) * DAY
end

-- Reservations past their expiry (their instance died) are settled at their estimate, at most
-- 100 a call. Each is 'budget key|period start|amount;' for every budget it reserved in.
local function purge(zset, hash, now)
  local ids = redis.call('ZRANGEBYSCORE', zset, '-inf', now, 'LIMIT', 0, 100)
  for _, id in ipairs(ids) do
    local held = redis.call('HGET', hash, id)
    if held then
      for key, p, amount in string.gmatch(held, '([^|;]+)|([^|;]+)|([^|;]+);') do
        if redis.call('HGET', key, 'p') == p then
          if redis.call('HINCRBY', key, 'r', '-' .. amount) < 0 then redis.call('HSET', key, 'r', 0) end
          redis.call('HINCRBY', key, 's', amount)
        end
      end
    end
    redis.call('ZREM', zset, id)
    redis.call('HDEL', hash, id)
  end
end
