#!/usr/bin/env bash
# Fuzzes switchboard-core's parsers (fuzz/fuzz_targets/*): builds every target once, then runs each for
# FUZZ_SECONDS (default 60) from its seed corpus in fuzz/corpus/<target>, with its keywords from
# fuzz/dicts/<target>.dict. Exits non-zero on the first crash, whose input libFuzzer saves under
# fuzz/artifacts/<target>/ (reproduce with the command it prints).
#
#   FUZZ_SECONDS=20 scripts/fuzz.sh            # every target, 20 s each
#   scripts/fuzz.sh sse retry_after            # only these targets
#
# cargo-fuzz wants nightly flags; RUSTC_BOOTSTRAP=1 lets the stable toolchain take them. The build has no
# sanitizer (the core forbids unsafe code; panics, overflow and debug assertions are what is looked for) and
# lives in fuzz/target, apart from the workspace's target dir. What the runs learn goes to fuzz/target/corpus,
# so the committed seeds stay as they are.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT/fuzz"
SECONDS_EACH="${FUZZ_SECONDS:-60}"
export RUSTC_BOOTSTRAP=1
export CARGO_TARGET_DIR="$ROOT/fuzz/target"
FLAGS=(--sanitizer none --debug-assertions --release)

step() {
    printf '\n==> %s\n' "$*"
}

if ! cargo fuzz --version >/dev/null 2>&1; then
    step "cargo install cargo-fuzz --locked"
    cargo install cargo-fuzz --locked
fi

mapfile -t all < <(cargo fuzz list)
[[ ${#all[@]} -gt 0 ]] || { echo "cargo fuzz list found no targets in fuzz/" >&2; exit 1; }
targets=("$@")
[[ ${#targets[@]} -gt 0 ]] || targets=("${all[@]}")

step "cargo fuzz build (${#all[@]} targets)"
start=$(date +%s)
cargo fuzz build "${FLAGS[@]}"
printf 'built in %ss\n' "$(($(date +%s) - start))"

for target in "${targets[@]}"; do
    step "fuzz $target for ${SECONDS_EACH}s"
    work="$CARGO_TARGET_DIR/corpus/$target"
    mkdir -p "$work" "artifacts/$target"
    log="$CARGO_TARGET_DIR/fuzz-$target.log"
    # Without a sanitizer libFuzzer cannot see string comparisons, so each target's keywords come from a dictionary.
    dict=()
    [[ -f "dicts/$target.dict" ]] && dict=(-dict="dicts/$target.dict")
    if ! cargo fuzz run "${FLAGS[@]}" "$target" "$work" "corpus/$target" -- "${dict[@]}" \
        -max_total_time="$SECONDS_EACH" -print_final_stats=1 >"$log" 2>&1; then
        if ! grep -q '^Failing input:' "$log"; then
            tail -n 30 "$log"
            printf '\nFAIL: cargo fuzz run %s failed without a crash report (full log: %s)\n' "$target" "$log"
            exit 1
        fi
        grep -m1 -A2 'panicked at' "$log" || true
        sed -n '/^Failing input:/,$p' "$log" | head -n 20
        printf '\nFAIL: %s crashed; the input is in fuzz/artifacts/%s/ (full log: %s).\n' "$target" "$target" "$log"
        printf 'Run the commands above from fuzz/ with RUSTC_BOOTSTRAP=1 in the environment.\n'
        exit 1
    fi
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    printf '%s: %s runs in %ss, no crash (corpus %s inputs)\n' "$target" "${runs:-?}" "$SECONDS_EACH" \
        "$(find "$work" -type f | wc -l)"
done
printf '\nfuzz: %s targets, %ss each, no crash (%ss in all)\n' "${#targets[@]}" "$SECONDS_EACH" "$(($(date +%s) - start))"
