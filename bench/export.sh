#!/usr/bin/env bash
# Benchmark of the register export (API.md §13). Not a test: it measures and reports.
#
#   bench/export.sh                 # a 1,000-site registry vs a 100,000-site one, SQLite
#   DB=postgres bench/export.sh     # the same on PostgreSQL (PG_URL as in bench/run.sh)
#
# For each registry it starts the release binary, resets the server's peak-memory mark
# (/proc/PID/clear_refs), downloads register.csv and register.json with curl, and reports the
# rows, bytes, seconds, and how far the server's peak resident memory rose above where it
# stood before the download: flat in the number of licences is the claim being measured.
set -euo pipefail
cd "$(dirname "$0")/.."
SITES=${SITES:-100000}
SMALL=${SMALL:-1000}
DB=${DB:-sqlite}
PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}
WORK=$(mktemp -d)
PID=""
cleanup() {
  [ -n "$PID" ] && kill "$PID" 2>/dev/null
  if [ "$DB" = postgres ]; then
    for d in ccreg_export_small ccreg_export_large; do psql "$PG_URL" -qc "DROP DATABASE IF EXISTS $d" >/dev/null 2>&1 || true; done
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

db_url() {
  if [ "$DB" = postgres ]; then
    psql "$PG_URL" -qc "DROP DATABASE IF EXISTS ccreg_export_$1" >/dev/null
    psql "$PG_URL" -qc "CREATE DATABASE ccreg_export_$1" >/dev/null
    echo "${PG_URL%/*}/ccreg_export_$1"
  else
    echo "sqlite://$WORK/$1.db"
  fi
}

cargo build --release --quiet
BIN="${CARGO_TARGET_DIR:-target}/release/ccreg"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
BASE="http://127.0.0.1:$PORT"

measure() { # $1 label, $2 sites
  local url kb_before kb_peak
  url=$(db_url "$1")
  CCREG_DATABASE_URL="$url" "$BIN" seed --sites "$2" >/dev/null 2>&1
  CCREG_DATABASE_URL="$url" CCREG_BIND="127.0.0.1:$PORT" CCREG_KEY_DIR="$WORK/keys" \
    RUST_LOG=warn "$BIN" serve >"$WORK/server.log" 2>&1 &
  PID=$!
  for _ in $(seq 1 1000); do curl -fs "$BASE/readyz" >/dev/null 2>&1 && break; sleep 0.02; done
  for format in csv json; do
    echo 5 >"/proc/$PID/clear_refs" # the peak mark starts again from here
    kb_before=$(awk '/VmRSS/ {print $2}' "/proc/$PID/status")
    read -r bytes secs < <(curl -fs -o "$WORK/register.$format" -w '%{size_download} %{time_total}\n' "$BASE/api/v1/public/register.$format")
    kb_peak=$(awk '/VmHWM/ {print $2}' "/proc/$PID/status")
    rows=$(if [ "$format" = csv ]; then python3 -c "import csv,sys; print(sum(1 for _ in csv.reader(open(sys.argv[1], newline='', encoding='utf-8'))) - 1)" "$WORK/register.csv"; else python3 -c "import json,sys; print(len(json.load(open(sys.argv[1]))))" "$WORK/register.json"; fi)
    printf '| %-14s | %-4s | %8s | %11s | %6.2f s | %+6.1f MiB |\n' "$2 sites" "$format" "$rows" "$bytes" "$secs" "$(python3 -c "print(($kb_peak-$kb_before)/1024)")"
  done
  kill "$PID"; wait "$PID" 2>/dev/null || true; PID=""
}

echo "register export — release build, $DB, $(nproc) cores"
echo
echo "| registry       | form | licences |       bytes |     time | peak RSS rise |"
echo "|----------------|------|----------|-------------|----------|---------------|"
measure small "$SMALL"
measure large "$SITES"
