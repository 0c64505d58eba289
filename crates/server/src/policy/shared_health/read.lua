-- The shared state of several identities, on the Redis server's clock.
-- KEYS: pairs of (identity hash, probe key).
-- Returns {now, then per identity: phase (0 closed, 1 open, 2 half-open), open_until,
--          probe_until (-1: no probe in flight), cool_until, requests_remaining,
--          requests_reset_at, tokens_remaining, tokens_reset_at}; -1 where nothing is known.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local out = {now}
for k = 1, #KEYS, 2 do
  local h = KEYS[k]
  local v = redis.call('HMGET', h, 'phase', 'open_until', 'cool_until', 'rr', 'rt', 'tr', 'tt')
  local phase = tonumber(v[1] or '0')
  local open_until = tonumber(v[2] or '-1')
  if phase == 1 and now >= open_until then phase = 2 end
  local probe = redis.call('PTTL', KEYS[k + 1])
  local probe_until = -1
  if probe > 0 then probe_until = now + probe end
  table.insert(out, phase)
  table.insert(out, open_until)
  table.insert(out, probe_until)
  for i = 3, 7 do table.insert(out, tonumber(v[i] or '-1')) end
end
return out
