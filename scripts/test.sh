#!/usr/bin/env bash
# The one command that runs every test: lint (and a check that the committed dashboard build is what its
# sources build), release build, Rust tests, a bounded fuzzing run of the core's parsers, Node end-to-end tests,
# Python smoke test, the dashboard's browser tests in headless Chromium.
#
# Skip steps for local iteration (all run by default):
#   SKIP_LINT=1     cargo fmt --check, clippy and cargo deny
#   SKIP_DENY=1     cargo deny only (licences, duplicate versions, sources: see deny.toml; installed with
#                   `cargo install --locked cargo-deny` when missing, a few minutes on two cores)
#   SKIP_BUILD=1    the release build (e2e then uses whatever binaries exist)
#   SKIP_RUST=1     cargo test / nextest
#   SKIP_FUZZ=1     scripts/fuzz.sh (FUZZ_SECONDS per target, default 20 here)
#   SKIP_E2E=1      both end-to-end suites (Node and Python)
#   SKIP_NODE=1     the Node suite only
#   SKIP_PYTHON=1   the Python smoke test only
#   SKIP_UI=1       the dashboard's build check and browser tests (Debian's chromium is installed when missing)
# Binaries for e2e: SWITCHBOARD_BIN and MOCK_PROVIDER_BIN (default: the release build below).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

step() {
    printf '\n==> %s\n' "$*"
}

skipped() {
    printf '\n==> skipped: %s (%s=1)\n' "$1" "$2"
}

lint() {
    step "cargo fmt --check"
    cargo fmt --all -- --check
    step "cargo clippy (warnings are errors)"
    cargo clippy --workspace --all-targets -- -D warnings
    if [[ "${SKIP_DENY:-0}" == 1 ]]; then skipped "cargo deny" SKIP_DENY; else deny; fi
}

# Advisories are not checked: they need the RustSec database from GitHub (see deny.toml).
deny() {
    if ! cargo deny --version >/dev/null 2>&1; then
        step "cargo install --locked cargo-deny (not installed; takes a few minutes)"
        cargo install --locked cargo-deny
    fi
    step "cargo deny check licenses bans sources"
    cargo deny check --hide-inclusion-graph licenses bans sources
}

# The dashboard's built files (ui/dist) are committed, so `cargo build` on a fresh clone needs no JS toolchain;
# this rebuilds them from ui/src with the locked packages and fails when the result differs from what is committed.
ui_build_check() {
    step "npm ci (ui)"
    (cd ui && npm ci --no-audit --no-fund)
    step "ui: npm run build (typecheck + vite build), then compare with the committed ui/dist"
    (cd ui && npm run build)
    if [[ -n "$(git status --porcelain -- ui/dist)" ]]; then
        git status --short -- ui/dist
        echo "ui/dist differs from what ui/src builds: run 'npm run build' in ui/ and commit ui/dist" >&2
        return 1
    fi
}

ui_browser_tests() {
    if [[ ! -x /usr/bin/chromium ]]; then
        step "installing Debian's chromium (browser tests)"
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    fi
    if [[ ! -d ui/node_modules ]]; then
        (cd ui && npm ci --no-audit --no-fund)
    fi
    step "ui: browser tests (playwright-core + /usr/bin/chromium, headless)"
    (cd ui && npm test)
}

build() {
    step "cargo build --release --workspace"
    cargo build --release --workspace
}

rust_tests() {
    if cargo nextest --version >/dev/null 2>&1; then
        step "cargo nextest run --workspace"
        cargo nextest run --workspace --no-tests=warn
    else
        step "cargo test --workspace"
        cargo test --workspace
    fi
}

node_e2e() {
    step "npm ci (e2e)"
    if [[ -f e2e/package-lock.json ]]; then
        (cd e2e && npm ci --no-audit --no-fund)
    else
        (cd e2e && npm install --no-audit --no-fund)
    fi
    step "node --test e2e/*.test.mjs"
    node --test --test-concurrency=1 e2e/*.test.mjs
}

python_e2e() {
    step "python venv (e2e/.venv)"
    if [[ ! -x e2e/.venv/bin/python ]]; then
        python3 -m venv e2e/.venv
    fi
    e2e/.venv/bin/python -m pip install --quiet --disable-pip-version-check -r e2e/python/requirements.txt pytest
    step "pytest e2e/python"
    e2e/.venv/bin/python -m pytest -q -p no:cacheprovider e2e/python
}

if [[ "${SKIP_LINT:-0}" == 1 ]]; then skipped lint SKIP_LINT; else lint; fi
if [[ "${SKIP_UI:-0}" == 1 ]]; then skipped "dashboard build check" SKIP_UI; else ui_build_check; fi
if [[ "${SKIP_BUILD:-0}" == 1 ]]; then skipped "release build" SKIP_BUILD; else build; fi
if [[ "${SKIP_RUST:-0}" == 1 ]]; then skipped "Rust tests" SKIP_RUST; else rust_tests; fi
if [[ "${SKIP_FUZZ:-0}" == 1 ]]; then
    skipped "fuzzing" SKIP_FUZZ
else
    step "scripts/fuzz.sh (${FUZZ_SECONDS:-20} s per target)"
    FUZZ_SECONDS="${FUZZ_SECONDS:-20}" bash scripts/fuzz.sh
fi

TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
export SWITCHBOARD_BIN="${SWITCHBOARD_BIN:-$TARGET_DIR/release/switchboard}"
export MOCK_PROVIDER_BIN="${MOCK_PROVIDER_BIN:-$TARGET_DIR/release/mock-provider}"
if [[ "${SKIP_E2E:-0}" == 1 ]]; then
    skipped "end-to-end tests" SKIP_E2E
else
    if [[ "${SKIP_NODE:-0}" == 1 ]]; then skipped "Node e2e" SKIP_NODE; else node_e2e; fi
    if [[ "${SKIP_PYTHON:-0}" == 1 ]]; then skipped "Python e2e" SKIP_PYTHON; else python_e2e; fi
    if [[ "${SKIP_UI:-0}" == 1 ]]; then skipped "dashboard browser tests" SKIP_UI; else ui_browser_tests; fi
fi

step "all tests passed"
