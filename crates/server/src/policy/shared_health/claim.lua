-- Claims the one probe of a half-open identity for ARGV[1] milliseconds: 1 when this
-- request may probe (the breaker's cooldown is over and no other probe is in flight).
-- KEYS[1] the identity's hash, KEYS[2] its probe key.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local phase = tonumber(redis.call('HGET', KEYS[1], 'phase') or '0')
local open_until = tonumber(redis.call('HGET', KEYS[1], 'open_until') or '0')
if phase ~= 1 then return 1 end
if now < open_until then return 0 end
if redis.call('SET', KEYS[2], '1', 'NX', 'PX', ARGV[1]) then return 1 end
return 0
