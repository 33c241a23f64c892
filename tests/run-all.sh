#!/usr/bin/env bash
# The whole test suite, as CI runs it (.ci/run calls this script):
#   1. formatting and clippy (warnings denied),
#   2. unit tests and emulator end-to-end tests (cargo nextest; a hung test
#      fails after 5 minutes instead of stalling the run), then doc tests,
#   3. the real-kernel suite: pmt, pmtx and ptape through Linux sg/st/ch inside
#      a QEMU guest against two device models, tgt's emulated library and
#      mhVTL (built from ../shared/vendor/) (tests/hw/run.sh, docs/testing.md).
# Installs what it needs on a fresh Debian machine (apt-get, as root).
# PTAPE_SKIP_HW=1 skips stage 3 (e.g. on a machine without root).
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v cc >/dev/null 2>&1 || need_apt+=(gcc)
command -v pkg-config >/dev/null 2>&1 || need_apt+=(pkg-config)
[ -e /usr/include/openssl/ssl.h ] || need_apt+=(libssl-dev)
if [ ${#need_apt[@]} -gt 0 ]; then
    echo "== installing ${need_apt[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}"
fi
rustup component list --installed 2>/dev/null | grep -q '^rustfmt' || rustup component add rustfmt
rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy (warnings denied)"
cargo clippy --workspace --all-features --all-targets -- -D warnings

echo "== unit and emulator end-to-end tests"
if cargo nextest --version >/dev/null 2>&1; then
    cargo nextest run --workspace --all-features --profile ci
    cargo test --workspace --all-features --doc
else
    cargo test --workspace --all-features
fi

if [ "${PTAPE_SKIP_HW:-0}" = 1 ]; then
    echo "== real-kernel suite skipped (PTAPE_SKIP_HW=1)"
else
    echo "== real-kernel suite (QEMU guest; tgt and mhVTL libraries)"
    cargo build --workspace --bins
    ./tests/hw/run.sh target/debug
fi
