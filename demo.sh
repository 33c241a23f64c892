#!/usr/bin/env bash
# The main job, end to end: build ptape, back up a directory tree to the
# embedded emulated tape library, list the snapshot, restore it to a new
# place, and compare contents and metadata; then change one file, back up
# again (incremental: unchanged files are not read), browse the new
# snapshot without a tape, restore it and compare. Prints PASS or FAIL.
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
# The newest snapshot: the first "name" of the JSON list.
latest_snapshot() {
    "$PTAPE" snapshots --output-format json | grep -o '"name": *"[^"]*"' |
        head -n 1 | sed 's/.*"\([^"]*\)"$/\1/'
}
SNAPSHOT=$(latest_snapshot)
[ -n "$SNAPSHOT" ] || fail "no snapshot listed after the backup"

step "ptape content"
"$PTAPE" content

step "ptape restore $SNAPSHOT $DEMO/restored"
"$PTAPE" restore "$SNAPSHOT" "$DEMO/restored"
RESTORED="$DEMO/restored/tree"

step "comparing contents (diff -r) and metadata (type, mode, mtime, size, link target, link count)"
diff -r --no-dereference "$SRC" "$RESTORED" || fail "restored files differ from the source"
# A directory's own size is the file system's business (it grows with the
# names it ever held, e.g. restore temporaries), not data: shown as '-'.
meta() {
    (cd "$1" && find . -mindepth 1 -printf '%P %y %m %T@ %s %n %l\n' |
        awk '$2 == "d" { $5 = "-" } { print }' | LC_ALL=C sort)
}
meta "$SRC" > "$DEMO/meta.src"
meta "$RESTORED" > "$DEMO/meta.restored"
diff "$DEMO/meta.src" "$DEMO/meta.restored" || fail "restored metadata differs from the source"

step "ptape verify"
"$PTAPE" verify || fail "verify reported damage"

step "changing one file; ptape backup again (incremental: unchanged files are not read)"
printf 'one more line\n' >> "$SRC/docs/format.md"
sleep 1 # snapshot names are to the second
"$PTAPE" backup --id demo "$SRC"
SNAPSHOT2=$(latest_snapshot)
[ "$SNAPSHOT2" != "$SNAPSHOT" ] || fail "no second snapshot listed"

step "ptape catalog ls $SNAPSHOT2 tree/docs (from the local file index, no tape read)"
"$PTAPE" catalog ls "$SNAPSHOT2" tree/docs

step "ptape restore $SNAPSHOT2 $DEMO/restored2"
"$PTAPE" restore "$SNAPSHOT2" "$DEMO/restored2"
diff -r --no-dereference "$SRC" "$DEMO/restored2/tree" ||
    fail "the incremental snapshot's files differ from the source"
meta "$SRC" > "$DEMO/meta2.src"
meta "$DEMO/restored2/tree" > "$DEMO/meta2.restored"
diff "$DEMO/meta2.src" "$DEMO/meta2.restored" ||
    fail "the incremental snapshot's metadata differs from the source"

END=$(date +%s)
printf '\nPASS: %s and %s restored byte for byte with metadata (%s entries, %ss after the build)\n' \
    "$SNAPSHOT" "$SNAPSHOT2" "$(wc -l < "$DEMO/meta.src")" "$((END - START))"
