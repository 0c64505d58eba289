#!/usr/bin/env bash
# Load comparison of Switchboard against a bare proxy (nginx) and Portkey's gateway, through
# ../shared/bench/compare.py, for the scenarios single, seed and stream. Writes
# bench/results/<date>-<scenario>.{json,md} and prints the figures our goals are stated in.
#
#   bench/run.sh [--duration 8] [--rates 1000] [--scenarios single,seed,stream]
#                [--systems direct,nginx,portkey,ours] [--conns 64] [--litellm]
#                [--no-build] [--wait-quiet MINUTES] [--ours-args "ARGS"] [--tag NAME]
#                [--logging-cost] [--baseline BIN]
#
# --logging-cost also measures, in the same run, the same binary with --no-request-logs (as compare.py
# peer `ours_nolog`, started with --insecure-no-auth since peers get no gateway key header), so the
# cost of request logging is a ratio from one run.
# --baseline BIN also measures another switchboard binary (e.g. a build of the previous commit) as peer
# `ours_base`, started like ours, so a change's cost is a ratio from one run.
#
# Env: SHARED_DIR (default: <repo>/../shared), PEERS_DIR (default /tmp/peers),
#      SWITCHBOARD_BIN (default: <repo>/target/release/switchboard; copied before the runs).
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
SHARED_DIR=${SHARED_DIR:-$(cd "$REPO/.." && pwd)/shared}
PEERS_DIR=${PEERS_DIR:-/tmp/peers}
export PEERS_DIR
RESULTS="$REPO/bench/results"
DURATION=8 RATES=1000 SCENARIOS=single,seed,stream SYSTEMS=direct,nginx,portkey,ours CONNS=64
LITELLM=0 BUILD=1 WAIT_QUIET=0 OURS_ARGS="" TAG="" LOGGING_COST=0 BASELINE=""

usage() { sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }
while [ $# -gt 0 ]; do
  case "$1" in
    --duration) DURATION=$2; shift 2 ;;
    --rates) RATES=$2; shift 2 ;;
    --scenarios) SCENARIOS=$2; shift 2 ;;
    --systems) SYSTEMS=$2; shift 2 ;;
    --conns) CONNS=$2; shift 2 ;;
    --litellm) LITELLM=1; shift ;;
    --no-build) BUILD=0; shift ;;
    --wait-quiet) WAIT_QUIET=$2; shift 2 ;;
    --ours-args) OURS_ARGS=$2; shift 2 ;;   # extra `serve` flags, e.g. --no-request-logs
    --tag) TAG=-$2; shift 2 ;;              # suffix for the result files of such a variant
    --logging-cost) LOGGING_COST=1; shift ;;
    --baseline) BASELINE=$2; shift 2 ;;
    -h|--help) usage 0 ;;
    *) echo "unknown argument: $1" >&2; usage 2 ;;
  esac
done
if [ "$LITELLM" = 1 ] && [[ ",$SYSTEMS," != *,litellm,* ]]; then SYSTEMS="$SYSTEMS,litellm"; fi
if [ "$LOGGING_COST" = 1 ] && [[ ",$SYSTEMS," != *,ours_nolog,* ]]; then SYSTEMS="$SYSTEMS,ours_nolog"; fi
if [ -n "$BASELINE" ] && [[ ",$SYSTEMS," != *,ours_base,* ]]; then SYSTEMS="$SYSTEMS,ours_base"; fi
[ -f "$SHARED_DIR/bench/compare.py" ] || { echo "no compare.py under SHARED_DIR=$SHARED_DIR" >&2; exit 2; }
MOCKLLM_BIN=${MOCKLLM_BIN:-$PEERS_DIR/mockllm-target/release/mockllm}
export MOCKLLM_BIN

# The shared setup.sh always installs LiteLLM (slow); without --litellm we do its other
# steps ourselves, the same way, and leave LiteLLM out.
ensure_peers() {
  if [ "$LITELLM" = 1 ]; then
    [ -x "$PEERS_DIR/litellm-venv/bin/litellm" ] && command -v oha >/dev/null && command -v nginx >/dev/null \
      && [ -x "$MOCKLLM_BIN" ] || bash "$SHARED_DIR/bench/setup.sh"
    return
  fi
  command -v oha >/dev/null || cargo install oha --locked
  command -v nginx >/dev/null || { apt-get update -qq && apt-get install -y -qq nginx-light; }
  [ -x "$MOCKLLM_BIN" ] || CARGO_TARGET_DIR="$PEERS_DIR/mockllm-target" \
    cargo build --release --manifest-path "$SHARED_DIR/bench/mockllm/Cargo.toml"
  if [ ! -d "$PEERS_DIR/portkey/node_modules/@portkey-ai/gateway" ]; then
    mkdir -p "$PEERS_DIR/portkey"
    (cd "$PEERS_DIR/portkey" && npm init -y >/dev/null && npm install --silent @portkey-ai/gateway@1.15.2)
  fi
}

# Rebuilds when the binary is missing or older than any source or manifest (not a SWITCHBOARD_BIN given).
ensure_binary() {
  local bin="${SWITCHBOARD_BIN:-$REPO/target/release/switchboard}"
  if [ "$BUILD" = 1 ] && [ -z "${SWITCHBOARD_BIN:-}" ] && { [ ! -x "$bin" ] || [ -n "$(find "$REPO/crates" "$REPO/Cargo.toml" "$REPO/Cargo.lock" \
      -newer "$bin" \( -name '*.rs' -o -name Cargo.toml -o -name Cargo.lock \) -print -quit)" ]; }; then
    (cd "$REPO" && cargo build --release -p switchboard)
  fi
  [ -x "$bin" ] || { echo "no gateway binary at $bin" >&2; exit 2; }
}

# Other builds on a 2-core machine distort every figure: wait (up to N minutes) for no rustc.
wait_quiet() {
  local left=$1
  while [ "$left" -gt 0 ] && [ "$(pgrep -c rustc || true)" -gt 0 ]; do
    echo "# waiting for a quiet machine: $(pgrep -c rustc || true) rustc running, ${left} min left" >&2
    sleep 60
    left=$((left - 1))
  done
}

# compare.py only checks that a port answers: a stale process left on one of its ports would be
# measured in place of the system it means to start. Refuse to run instead.
check_ports_free() {
  local busy
  busy=$(ss -Hltn 2>/dev/null | awk '{print $4}' | grep -E ':930[1-6]$' || true)
  [ -z "$busy" ] || { echo "ports in use (stale mock/peer?): $busy — stop those processes first" >&2; exit 3; }
}

ensure_peers
ensure_binary
# Measure one binary throughout, even if target/ is rebuilt while the scenarios run.
SNAP=$(mktemp -d /tmp/sb-bench-bin.XXXXXX)
trap 'rm -rf "$SNAP"' EXIT
cp "${SWITCHBOARD_BIN:-$REPO/target/release/switchboard}" "$SNAP/switchboard"
[ -z "$BASELINE" ] || cp "$BASELINE" "$SNAP/baseline"
mkdir -p "$RESULTS"
DATE=$(date +%F)
META="$RESULTS/$DATE$TAG-meta.txt"
{
  echo "date: $(date -Is)"
  echo "commit: $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)"
  echo "cpus: $(nproc); pinned: mock + oha on CPU 0, system under test on CPU 1"
  echo "args: duration=$DURATION rates=$RATES conns=$CONNS systems=$SYSTEMS ours-args=$OURS_ARGS"
  echo "binary: $(stat -c '%y %s bytes' "${SWITCHBOARD_BIN:-$REPO/target/release/switchboard}")"
  echo "oha: $(oha --version 2>/dev/null | head -1); nginx: $(nginx -v 2>&1); node: $(node --version 2>/dev/null)"
} >"$META"

for scenario in ${SCENARIOS//,/ }; do
  wait_quiet "$WAIT_QUIET"
  check_ports_free
  data_dir=$(mktemp -d /tmp/sb-bench-data.XXXXXX)
  [[ "$data_dir" != *PORT* ]] || { rm -rf "$data_dir"; data_dir=$(mktemp -d /tmp/sb-bench-data.XXXXXX); }
  out="$RESULTS/$DATE-$scenario$TAG"
  echo "## $scenario  (load: $(cut -d' ' -f1-3 /proc/loadavg); rustc running: $(pgrep -c rustc || true))" | tee -a "$META"
  # Whatever else is busy (not only builds) distorts the figures: name it.
  top -b -n1 -o %CPU 2>/dev/null | sed -n '8,10p' | awk '{print "#   busy: " $9 "% " $12}' >>"$META"
  peer=()
  [ "$LOGGING_COST" = 1 ] && peer=(--peer \
    "ours_nolog=$SNAP/switchboard serve --port PORT --data-dir $data_dir/nolog --insecure-no-auth --no-request-logs")
  [ -n "$BASELINE" ] && peer+=(--peer \
    "ours_base=SWITCHBOARD_ADMIN_KEY=sb-bench $SNAP/baseline serve --port PORT --data-dir $data_dir/base $OURS_ARGS")
  python3 "$SHARED_DIR/bench/compare.py" --pin --conc1 --scenario "$scenario" --systems "$SYSTEMS" \
    --rates "$RATES" --duration "$DURATION" --conns "$CONNS" --out "$out.json" "${peer[@]}" \
    --ours-cmd "SWITCHBOARD_ADMIN_KEY=sb-bench $SNAP/switchboard serve --port PORT --data-dir $data_dir $OURS_ARGS" \
    --ours-header "x-portkey-api-key: sb-bench" 2>"$out.log" | tee "$out.md" \
    || { echo "# compare.py failed for $scenario:" >&2; tail -n 5 "$out.log" >&2; }
  grep -E '^# ' "$out.log" >&2 || true   # compare.py's notes (a system that failed to start, …)
  cp /tmp/bench-ours.log "$out.ours.log" 2>/dev/null || true
  rm -rf "$data_dir"
done

echo
echo "## goals (rate ${RATES%%,*} for p99)"
python3 "$REPO/bench/ratios.py" --rate "${RATES%%,*}" \
  --single "$RESULTS/$DATE-single$TAG.json" --seed "$RESULTS/$DATE-seed$TAG.json" \
  --stream "$RESULTS/$DATE-stream$TAG.json" \
  $(for s in ${SCENARIOS//,/ }; do echo --ours-log "$RESULTS/$DATE-$s$TAG.ours.log"; done) | tee "$RESULTS/$DATE$TAG-goals.md"
