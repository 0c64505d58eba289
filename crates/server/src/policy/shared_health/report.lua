-- One attempt's outcome for one target identity, applied atomically on the Redis server's
-- clock: the breaker's rolling window (ten buckets), its open / half-open / closed phase,
-- the Retry-After cooldown and the rate-limit headroom hints. Mirrors
-- switchboard_core::health::breaker (keep the two in step; tests run both on the same cases).
-- KEYS[1] the identity's hash, KEYS[2] its probe key.
-- ARGV: failed, has_cb, threshold (0: none), percentage (0: none), minimum_requests,
--       cooldown_ms, window_ms, cool_ms (0: none), requests_remaining (-1: not reported),
--       requests_reset_in_ms, tokens_remaining (-1), tokens_reset_in_ms
-- Returns {phase (0 closed, 1 open, 2 half-open), open_until, cool_until, requests_remaining,
--          requests_reset_at, tokens_remaining, tokens_reset_at, now, transition (0 none,
--          1 opened, 2 closed)}; -1 where nothing is known.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local h = KEYS[1]
local failed = ARGV[1] == '1'
local cooldown = tonumber(ARGV[6])
local phase = tonumber(redis.call('HGET', h, 'phase') or '0')
local open_until = tonumber(redis.call('HGET', h, 'open_until') or '0')
if phase == 1 and now >= open_until then phase = 2 end
local transition = 0

local function clear()
  for i = 0, 9 do redis.call('HDEL', h, 's' .. i, 't' .. i, 'f' .. i) end
end
local function open()
  phase = 1
  open_until = now + cooldown
  clear()
  redis.call('DEL', KEYS[2])
  transition = 1
end

if phase == 2 then
  if failed then
    open()
  else
    phase = 0
    clear()
    redis.call('DEL', KEYS[2])
    transition = 2
  end
elseif phase == 0 and ARGV[2] == '1' then
  local bucket_ms = math.max(1, math.floor(tonumber(ARGV[7]) / 10))
  local slot = math.floor(now / bucket_ms)
  local i = slot % 10
  if tonumber(redis.call('HGET', h, 's' .. i) or '-1') ~= slot then
    redis.call('HSET', h, 's' .. i, slot, 't' .. i, 0, 'f' .. i, 0)
  end
  redis.call('HINCRBY', h, 't' .. i, 1)
  if failed then redis.call('HINCRBY', h, 'f' .. i, 1) end
  local total, failures = 0, 0
  for j = 0, 9 do
    local s = tonumber(redis.call('HGET', h, 's' .. j) or '-1')
    if s >= 0 and slot - s < 10 then
      total = total + tonumber(redis.call('HGET', h, 't' .. j) or '0')
      failures = failures + tonumber(redis.call('HGET', h, 'f' .. j) or '0')
    end
  end
  local threshold, percentage = tonumber(ARGV[3]), tonumber(ARGV[4])
  local by_count = threshold > 0 and failures >= threshold
  local by_share = percentage > 0 and failures * 100 >= percentage * total
  if failures > 0 and total >= tonumber(ARGV[5]) and (by_count or by_share) then open() end
end

local cool_until = tonumber(redis.call('HGET', h, 'cool_until') or '-1')
local cool_ms = tonumber(ARGV[8])
if cool_ms > 0 and now + cool_ms > cool_until then cool_until = now + cool_ms end
if tonumber(ARGV[9]) >= 0 then
  redis.call('HSET', h, 'rr', ARGV[9], 'rt', now + tonumber(ARGV[10]))
end
if tonumber(ARGV[11]) >= 0 then
  redis.call('HSET', h, 'tr', ARGV[11], 'tt', now + tonumber(ARGV[12]))
end
redis.call('HSET', h, 'phase', phase == 2 and 1 or phase, 'open_until', open_until, 'cool_until', cool_until)
redis.call('PEXPIRE', h, 3600000)
local function num(field) return tonumber(redis.call('HGET', h, field) or '-1') end
return {phase, open_until, cool_until, num('rr'), num('rt'), num('tr'), num('tt'), now, transition}
