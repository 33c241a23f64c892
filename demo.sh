#!/usr/bin/env bash
# The main job, end to end: build ptape, back up a directory tree to the
# embedded emulated tape library, list the snapshot, restore it to a new
# place, and compare contents and metadata. Prints PASS or FAIL.
#
# Everything lives under ./target/demo (removed and recreated on each run):
# it never touches your real ptape configuration or data.
set -euo pipefail

cd "$(dirname "$0")"
ROOT=$(pwd)
DEMO="$ROOT/target/demo"

step() { printf '\n== %s\n' "$*"; }
fail() { printf '\nFAIL: %s\n' "$*"; exit 1; }

step "building the release binaries (cargo build --release -p tape-cli)"
cargo build --release -p tape-cli
PTAPE="$ROOT/target/release/ptape"
[ -x "$PTAPE" ] || fail "no ptape binary at $PTAPE"

rm -rf "$DEMO"
mkdir -p "$DEMO"
export PTAPE_CONFIG_DIR="$DEMO/config"
export PTAPE_DATA_DIR="$DEMO/data"
unset TAPE CHANGER RUST_LOG || true
START=$(date +%s)

step "preparing the source tree $DEMO/src/tree"
SRC="$DEMO/src/tree"
mkdir -p "$SRC/random" "$SRC/links" "$SRC/empty-dir"
cp -a docs "$SRC/docs"
cp -a pbs-tape/src "$SRC/pbs-tape-src"
for i in 1 2 3; do
    head -c $((i * 1024 * 1024 + i)) /dev/urandom > "$SRC/random/blob$i.bin"
done
: > "$SRC/links/empty-file"
truncate -s 5M "$SRC/links/sparse.img"
printf 'hello from ptape\n' > "$SRC/links/target.txt"
ln -s target.txt "$SRC/links/symlink"
ln "$SRC/links/target.txt" "$SRC/links/hardlink"
chmod 600 "$SRC/random/blob1.bin"
chmod 750 "$SRC/random"
touch -d '2001-09-09 01:46:40' "$SRC/links/target.txt"
printf '%s entries, %s\n' "$(find "$SRC" | wc -l)" "$(du -sh --apparent-size "$SRC" | cut -f1)"

step "ptape status"
"$PTAPE" status

step "ptape backup $SRC"
"$PTAPE" backup --id demo "$SRC"

step "ptape snapshots"
"$PTAPE" snapshots
SNAPSHOT=$("$PTAPE" snapshots --output-format json |
    sed -n 's/.*"name": *"\([^"]*\)".*/\1/p' | head -n 1)
[ -n "$SNAPSHOT" ] || fail "no snapshot listed after the backup"

step "ptape content"
"$PTAPE" content

step "ptape restore $SNAPSHOT $DEMO/restored"
"$PTAPE" restore "$SNAPSHOT" "$DEMO/restored"
RESTORED="$DEMO/restored/tree"

step "comparing contents (diff -r) and metadata (type, mode, mtime, size, link target, link count)"
diff -r --no-dereference "$SRC" "$RESTORED" || fail "restored files differ from the source"
meta() { (cd "$1" && find . -mindepth 1 -printf '%P %y %m %T@ %s %n %l\n' | LC_ALL=C sort); }
meta "$SRC" > "$DEMO/meta.src"
meta "$RESTORED" > "$DEMO/meta.restored"
diff "$DEMO/meta.src" "$DEMO/meta.restored" || fail "restored metadata differs from the source"

step "ptape verify"
"$PTAPE" verify || fail "verify reported damage"

END=$(date +%s)
printf '\nPASS: %s restored byte for byte with metadata (%s entries, %ss after the build)\n' \
    "$SNAPSHOT" "$(wc -l < "$DEMO/meta.src")" "$((END - START))"
