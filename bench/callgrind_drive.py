"""Sequential chat requests over one keep-alive connection, for bench/callgrind_ab.sh."""
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
cfg = json.dumps(single if scenario == "single" else seed)
body = json.dumps({"model": "gpt-3.5-turbo", "messages": [{"role": "system", "content": "You are a very helpful assistant."},
    {"role": "user", "content": "What are 7 wonders in the world?"}]})
hdrs = {"content-type": "application/json", "x-portkey-config": cfg}
for _ in range(600):
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=30); c.request("GET", "/health"); c.getresponse().read(); break
    except Exception:
        time.sleep(0.5)
ok = 0
for i in range(n):
    c.request("POST", "/v1/chat/completions", body=body, headers=hdrs)
    r = c.getresponse(); r.read()
    ok += r.status == 200
print(f"{ok}/{n} ok")
