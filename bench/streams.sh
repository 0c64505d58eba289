#!/usr/bin/env bash
# Memory under many open streams, and over time. Two measurements of issue 5's streaming goals:
#
#   bench/streams.sh hold [--streams 1000] [--seconds 30]   # N concurrent streams, each paced to last ~S s
#   bench/streams.sh soak [--minutes 10] [--rate 1000]       # fixed-rate chat requests, RSS sampled over time
#
# Both start the mock (shared/bench/mockllm, port 9311) and the gateway (target/release/switchboard, port 9312,
# request logging on, fresh data dir), drive them with oha, print the gateway's RSS samples and peak (VmHWM), and
# write bench/results/<date>-streams-<mode>.txt. Env: PEERS_DIR, MOCKLLM_BIN, SWITCHBOARD_BIN as in run.sh.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
PEERS_DIR=${PEERS_DIR:-/tmp/peers}
MOCKLLM_BIN=${MOCKLLM_BIN:-$PEERS_DIR/mockllm-target/release/mockllm}
BIN=${SWITCHBOARD_BIN:-$REPO/target/release/switchboard}
MODE=${1:-}
shift || true
STREAMS=1000 SECONDS_PER_STREAM=30 MINUTES=10 RATE=1000
while [ $# -gt 0 ]; do
  case "$1" in
    --streams) STREAMS=$2; shift 2 ;;
    --seconds) SECONDS_PER_STREAM=$2; shift 2 ;;
    --minutes) MINUTES=$2; shift 2 ;;
    --rate) RATE=$2; shift 2 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
case "$MODE" in hold|soak) ;; *) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;; esac
[ -x "$MOCKLLM_BIN" ] && [ -x "$BIN" ] && command -v oha >/dev/null \
  || { echo "needs oha, $MOCKLLM_BIN and $BIN (run bench/run.sh once to install the first two)" >&2; exit 2; }

MOCK_PORT=9311 GW_PORT=9312
DATA=$(mktemp -d /tmp/sb-streams-data.XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$DATA"; }
trap cleanup EXIT
"$MOCKLLM_BIN" --port $MOCK_PORT --name bench --threads 1 --no-record >/dev/null 2>&1 &
PIDS+=($!)
SWITCHBOARD_ADMIN_KEY=sb-bench "$BIN" serve --port $GW_PORT --data-dir "$DATA" >"$DATA.log" 2>&1 &
GW=$!
PIDS+=($GW)
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$GW_PORT/health" >/dev/null && break; sleep 0.2; done

CFG="{\"provider\":\"openai\",\"api_key\":\"sk-bench\",\"custom_host\":\"http://127.0.0.1:$MOCK_PORT/v1\"}"
rss() { awk '/^VmRSS/ {printf "%.1f", $2 / 1024}' "/proc/$GW/status"; }
hwm() { awk '/^VmHWM/ {printf "%.1f", $2 / 1024}' "/proc/$GW/status"; }
OUT="$REPO/bench/results/$(date +%F)-streams-$MODE.txt"
mkdir -p "$REPO/bench/results"

if [ "$MODE" = hold ]; then
  # The mock's OpenAI stream is 8 events (role, the 5 words of its answer, finish, [DONE]), each followed by the
  # scripted pause: pace them so that a stream lasts the asked time. One stream per connection (-n = -c).
  PAUSE=$((SECONDS_PER_STREAM * 1000 / 8))
  curl -sf -X POST "http://127.0.0.1:$MOCK_PORT/_script" -d "{\"chunk_delay_ms\":$PAUSE}" >/dev/null
  BODY='{"model":"gpt-3.5-turbo","stream":true,"messages":[{"role":"user","content":"What are 7 wonders in the world?"}]}'
  oha --no-tui --output-format json -n "$STREAMS" -c "$STREAMS" -t "$((SECONDS_PER_STREAM + 30))s" -m POST -d "$BODY" \
    -T application/json -H "x-portkey-config: $CFG" -H "x-portkey-api-key: sb-bench" \
    "http://127.0.0.1:$GW_PORT/v1/chat/completions" >"$DATA/oha.json" &
  LOAD=$!
else
  BODY='{"model":"gpt-3.5-turbo","messages":[{"role":"user","content":"What are 7 wonders in the world?"}]}'
  oha --no-tui --output-format json -z "${MINUTES}m" -c 64 -q "$RATE" -m POST -d "$BODY" \
    -T application/json -H "x-portkey-config: $CFG" -H "x-portkey-api-key: sb-bench" \
    "http://127.0.0.1:$GW_PORT/v1/chat/completions" >"$DATA/oha.json" &
  LOAD=$!
fi
PIDS+=($LOAD)

STEP=$([ "$MODE" = hold ] && echo 2 || echo 30)
{
  echo "# $(date -Is) streams.sh $MODE: streams=$STREAMS seconds=$SECONDS_PER_STREAM minutes=$MINUTES rate=$RATE"
  echo "# commit $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown); gateway RSS (MiB) every ${STEP}s"
} | tee "$OUT"
START=$(date +%s)
while kill -0 "$LOAD" 2>/dev/null; do
  echo "t=$(( $(date +%s) - START ))s rss=$(rss) open_conns=$(ss -Htn state established "( sport = :$GW_PORT )" | wc -l)" \
    | tee -a "$OUT"
  sleep "$STEP"
done
wait "$LOAD" || true
python3 - "$DATA/oha.json" <<'PY' | tee -a "$OUT"
import json, sys
j = json.load(open(sys.argv[1]))
codes = j.get("statusCodeDistribution", {})
print(f"requests: {sum(codes.values())} by status {codes}; errors {j.get('errorDistribution', {})}")
print(f"rps {j['summary']['requestsPerSec']:.1f}; p50 {j['latencyPercentiles']['p50'] * 1000:.1f} ms")
PY
echo "peak RSS (VmHWM): $(hwm) MiB; RSS at the end: $(rss) MiB" | tee -a "$OUT"
