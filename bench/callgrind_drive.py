"""Sequential chat requests over one keep-alive connection, for bench/callgrind_ab.sh.

Scenarios: single (one inline target), seed (the cookbook's nested config), vk (a virtual key, created
first through the admin API), limited (the same with rate and usage limits).

An optional fifth argument sends over that many connections at once (threads), so the log writer sees the
large batches of a loaded gateway instead of one request's worth per linger."""
import http.client, json, sys, time
port, n, scenario, mock = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
host = f"http://127.0.0.1:{mock}/v1"
single = {"provider": "openai", "api_key": "sk-bench", "custom_host": host}
seed = {"strategy": {"mode": "loadbalance"}, "targets": [
    {"provider": "anthropic", "api_key": "sk-ant", "custom_host": host, "weight": 0.5,
     "override_params": {"max_tokens": 200, "model": "claude-3-opus-20240229"}},
    {"strategy": {"mode": "fallback"}, "weight": 0.5,
     "targets": [{"provider": "openai", "api_key": "sk-a", "custom_host": host},
                 {"provider": "openai", "api_key": "sk-b", "custom_host": host}]}]}
configs = {"single": single, "seed": seed}
body = json.dumps({"model": "gpt-3.5-turbo", "messages": [{"role": "system", "content": "You are a very helpful assistant."},
    {"role": "user", "content": "What are 7 wonders in the world?"}]})
hdrs = {"content-type": "application/json"}
for _ in range(600):
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=30); c.request("GET", "/health"); c.getresponse().read(); break
    except Exception:
        time.sleep(0.5)
if scenario in ("vk", "limited"):
    key = {"name": "bench", "provider": "openai", "key": "sk-bench-limited", "custom_host": host}
    if scenario == "limited":
        # A request window, a token window and a cost budget, none of which the run reaches: every
        # request reserves and settles in all three.
        key["rate_limits"] = [{"type": "requests", "unit": "rpm", "value": 1000000000},
                              {"type": "tokens", "unit": "rpd", "value": 1000000000000}]
        key["usage_limits"] = {"credit_limit": 1000000, "type": "cost"}
    c.request("POST", "/v1/virtual-keys", body=json.dumps(key), headers={"content-type": "application/json"})
    r = c.getresponse(); created = json.loads(r.read())
    assert r.status == 200, created
    configs[scenario] = {"virtual_key": created["slug"]}
cfg = json.dumps(configs[scenario])
hdrs["x-portkey-config"] = cfg
conns = int(sys.argv[5]) if len(sys.argv) > 5 else 1


def send(count):
    conn, ok = http.client.HTTPConnection("127.0.0.1", port, timeout=120), 0
    for _ in range(count):
        conn.request("POST", "/v1/chat/completions", body=body, headers=hdrs)
        r = conn.getresponse(); r.read()
        ok += r.status == 200
    return ok


from concurrent.futures import ThreadPoolExecutor
with ThreadPoolExecutor(conns) as pool:
    ok = sum(pool.map(send, [n // conns + (i < n % conns) for i in range(conns)]))
print(f"{ok}/{n} ok")
