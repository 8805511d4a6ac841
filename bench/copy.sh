#!/usr/bin/env bash
# `ccreg copy` at scale (issue 23, API.md §17). Not a test: it measures and reports.
#
#   bench/copy.sh                # the demo registry plus 100,000 sites: SQLite -> PostgreSQL -> SQLite
#   SITES=20000 bench/copy.sh    # a smaller registry
#   BIN=target/release/ccreg PG_URL=postgres://postgres@127.0.0.1:5432/postgres bench/copy.sh
#
# Seeds a SQLite registry (`seed --demo`, then `seed --sites N`), copies it into a new
# PostgreSQL database and from there into a new SQLite file, timing each copy (each is one
# snapshot, verified in the target before it commits: per-table counts and the audit chain),
# then checks the round trip: every table's rows the same in the first and the last file, the
# same audit head, and a copy into the now non-empty PostgreSQL refused.
set -euo pipefail
cd "$(dirname "$0")/.."
SITES=${SITES:-100000}
PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}
DB=ccreg_bench_copy
WORK=$(mktemp -d)
cleanup() {
  psql "$PG_URL" -qc "DROP DATABASE IF EXISTS $DB" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT
if [ -z "${BIN:-}" ]; then
  cargo build --release --quiet
  BIN="${CARGO_TARGET_DIR:-target}/release/ccreg"
fi
export RUST_LOG=warn
SRC="sqlite://$WORK/source.db"
BACK="sqlite://$WORK/back.db"
TARGET="${PG_URL%/*}/$DB"
psql "$PG_URL" -qc "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB" >/dev/null

secs() { python3 -c "print(f'{$(date +%s.%N)-$1:.1f}')"; }
t0=$(date +%s.%N)
CCREG_DATABASE_URL=$SRC "$BIN" seed --demo >/dev/null
CCREG_DATABASE_URL=$SRC "$BIN" seed --sites "$SITES" >/dev/null
echo "seeded the demo registry and $SITES sites in $(secs "$t0") s ($(du -h "$WORK/source.db" | cut -f1))"

t0=$(date +%s.%N)
CCREG_DATABASE_URL=$SRC "$BIN" copy --to "$TARGET" >"$WORK/out1" 2>"$WORK/err1"
to_pg=$(secs "$t0")
head -1 "$WORK/out1"
t0=$(date +%s.%N)
CCREG_DATABASE_URL=$TARGET "$BIN" copy --to "$BACK" >"$WORK/out2" 2>"$WORK/err2"
to_sqlite=$(secs "$t0")
head -1 "$WORK/out2"

# The round trip: the per-table counts printed by both copies are the source's, so they must agree.
diff <(tail -n +2 "$WORK/out1") <(tail -n +2 "$WORK/out2") >/dev/null || { echo "the counts differ"; exit 1; }
a=$(CCREG_DATABASE_URL=$SRC "$BIN" verify-audit)
b=$(CCREG_DATABASE_URL=$BACK "$BIN" verify-audit)
[ "$a" = "$b" ] || { echo "audit heads differ: $a / $b"; exit 1; }
if CCREG_DATABASE_URL=$SRC "$BIN" copy --to "$TARGET" >/dev/null 2>"$WORK/err3"; then
  echo "a copy into a non-empty database was not refused"; exit 1
fi
rows=$(head -1 "$WORK/out1" | sed -E 's/copied ([0-9]+) rows.*/\1/')
printf '\n| copy | rows | seconds |\n|---|---|---|\n'
printf '| SQLite -> PostgreSQL | %s | %s |\n| PostgreSQL -> SQLite | %s | %s |\n' "$rows" "$to_pg" "$rows" "$to_sqlite"
echo "round trip: same counts, same audit head ($a); a non-empty target refused: $(cat "$WORK/err3")"
