#!/usr/bin/env bash
# Instructions per request, A against B, with valgrind's callgrind: deterministic where the
# wall clock is not, so it can tell a 1 % change on a shared two-core machine.
#
#   bench/callgrind_ab.sh OLD_BIN NEW_BIN [scenario=single|seed|vk|limited] [extra serve flags…]
#
# Each binary serves N requests (sequential, one keep-alive connection, bench/callgrind_drive.py)
# twice, at 500 and at 2000, through the testkit mock (target/release/mock-provider); the
# difference of the two totals divided by 1500 is the per-request cost, start-up excluded.
# Pass --no-request-logs to leave out SQLite, whose batching depends on timing (±1 %).
set -euo pipefail
old=$1 new=$2 scenario=${3:-single}
shift $(( $# < 3 ? $# : 3 ))
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
mock="${MOCK_PROVIDER_BIN:-$root/target/release/mock-provider}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

total() { # bin n → millions of instructions
    local bin=$1 n=$2 out="$work/cg.$RANDOM"
    shift 2
    "$mock" --port 0 --name openai > "$work/mock.out" & local mpid=$!
    for _ in $(seq 50); do grep -q listening "$work/mock.out" && break; sleep 0.1; done
    local mport port=$((20000 + RANDOM % 20000))
    mport=$(sed -E 's/.*:([0-9]+).*/\1/' "$work/mock.out")
    valgrind --tool=callgrind --callgrind-out-file="$out" "$bin" serve --port "$port" \
        --data-dir "$work/data.$RANDOM" --insecure-no-auth "$@" > "$work/gw.log" 2>&1 & local gpid=$!
    python3 "$root/bench/callgrind_drive.py" "$port" "$n" "$scenario" "$mport" >&2
    kill -TERM "$gpid"; wait "$gpid" || true
    kill "$mpid" || true
    awk '/^(summary|totals):/ {print $2 / 1e6; exit}' "$out"
}

for side in old new; do
    bin=${!side}
    echo "==> $side: $bin ($scenario)" >&2
    small=$(total "$bin" 500 "$@")
    big=$(total "$bin" 2000 "$@")
    awk -v s="$side" -v a="$small" -v b="$big" \
        'BEGIN {printf "%s: %.1f M at 500, %.1f M at 2000: %.1fk instructions a request\n", s, a, b, (b - a) * 1000 / 1500}'
done
