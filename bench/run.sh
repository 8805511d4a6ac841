#!/usr/bin/env bash
# Benchmark of the verification hot path (issue 6). Not a test: it measures and reports.
#
#   bench/run.sh                 # 100,000-site registry vs a 1,000-site one, SQLite
#   DB=postgres bench/run.sh     # the same on PostgreSQL (PG_URL, default
#                                # postgres://postgres@127.0.0.1:5432/postgres; makes and
#                                # drops two databases, ccreg_bench_small and _large)
#   SITES=20000 bench/run.sh     # a smaller large registry
#   DURATION=20s CONNECTIONS=32 bench/run.sh
#   BIN=target/release/ccreg bench/run.sh   # an existing binary (nothing is built)
#
# Needs wrk (Debian package `wrk`; installed if missing and running as root). Builds the
# release binary, seeds two registries, starts ccreg on each, and prints requests per second
# and p50/p99 latency of /healthz, a licence verification and a number verification under the
# same wrk settings, their ratio to /healthz, the time of a 10,000-item bulk request, the
# server's peak memory (VmHWM) and how long it takes from start to answering /readyz (the
# verification index is loaded before the server listens).
set -euo pipefail
cd "$(dirname "$0")/.."
SITES=${SITES:-100000}
SMALL=${SMALL:-1000}
DURATION=${DURATION:-15s}
CONNECTIONS=${CONNECTIONS:-32}
THREADS=${THREADS:-2}
DB=${DB:-sqlite}
PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}
WORK=$(mktemp -d)
PID=""
cleanup() {
  [ -n "$PID" ] && kill "$PID" 2>/dev/null
  if [ "$DB" = postgres ]; then
    for d in ccreg_bench_small ccreg_bench_large; do psql "$PG_URL" -qc "DROP DATABASE IF EXISTS $d" >/dev/null 2>&1 || true; done
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

# The database URL of registry $1 (small or large), created empty.
db_url() {
  if [ "$DB" = postgres ]; then
    psql "$PG_URL" -qc "DROP DATABASE IF EXISTS ccreg_bench_$1" >/dev/null
    psql "$PG_URL" -qc "CREATE DATABASE ccreg_bench_$1" >/dev/null
    echo "${PG_URL%/*}/ccreg_bench_$1"
  else
    echo "sqlite://$WORK/$1.db"
  fi
}

command -v wrk >/dev/null || { [ "$(id -u)" = 0 ] && apt-get install -y -qq wrk >/dev/null; }
command -v wrk >/dev/null || { echo "wrk is needed (apt-get install wrk)"; exit 1; }
if [ -z "${BIN:-}" ]; then
  cargo build --release --quiet
  BIN="${CARGO_TARGET_DIR:-target}/release/ccreg"
fi
TICKS=$(getconf CLK_TCK)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
BASE="http://127.0.0.1:$PORT"

json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }

start() { # $1: database URL; sets READY_S, the seconds from start to answering /readyz
  local t0
  t0=$(date +%s.%N)
  CCREG_DATABASE_URL="$1" CCREG_BIND="127.0.0.1:$PORT" CCREG_KEY_DIR="$WORK/keys" \
    CCREG_BOOTSTRAP_ADMIN_EMAIL=bench@ccreg.pk CCREG_BOOTSTRAP_ADMIN_PASSWORD='bench admin password' \
    CCREG_ACCESS_TOKEN_TTL_SECS=3600 RUST_LOG=warn "$BIN" serve >"$WORK/server.log" 2>&1 &
  PID=$!
  for _ in $(seq 1 1000); do
    if curl -fs "$BASE/readyz" >/dev/null 2>&1; then
      READY_S=$(python3 -c "print(f'{$(date +%s.%N)-$t0:.2f}')")
      return
    fi
    sleep 0.01
  done
  cat "$WORK/server.log"; exit 1
}
stop() { kill "$PID"; wait "$PID" 2>/dev/null || true; PID=""; }

agency_token() {
  local admin client
  admin=$(curl -fs "$BASE/api/v1/auth/token" -H 'content-type: application/json' \
    -d '{"grant_type":"password","username":"bench@ccreg.pk","password":"bench admin password"}' | json '["access_token"]')
  client=$(curl -fs "$BASE/api/v1/agency-clients" -H "authorization: Bearer $admin" -H 'content-type: application/json' \
    -d '{"name":"bench","agency":"bench"}')
  curl -fs "$BASE/api/v1/auth/token" -H 'content-type: application/json' \
    -d "{\"grant_type\":\"client_credentials\",\"client_id\":\"$(echo "$client" | json '["client_id"]')\",\"client_secret\":\"$(echo "$client" | json '["client_secret"]')\"}" \
    | json '["access_token"]'
}

# The server's CPU time so far (user + system), in clock ticks.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$PID/stat"; }

# wrk with --latency; prints "rps p50 p99 us": us is the server's CPU time per request in
# microseconds (its user + system time over the run divided by the requests answered), which
# the load generator sharing the cores does not blur the way it blurs requests per second.
load() { # $1 url, rest: extra wrk args
  local url=$1; shift
  local t0 t1
  t0=$(cpu_ticks)
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "$@" "$url" >"$WORK/wrk.out"
  t1=$(cpu_ticks)
  local rps p50 p99 reqs us
  rps=$(awk '/Requests\/sec/ {print $2}' "$WORK/wrk.out")
  p50=$(awk '$1=="50%" {print $2}' "$WORK/wrk.out")
  p99=$(awk '$1=="99%" {print $2}' "$WORK/wrk.out")
  reqs=$(awk '/requests in/ {print $1}' "$WORK/wrk.out")
  us=$(python3 -c "print(f'{($t1 - $t0) * 1e6 / $TICKS / $reqs:.1f}')")
  if grep -q "Non-2xx" "$WORK/wrk.out"; then echo "warning: non-2xx answers: $(grep Non-2xx "$WORK/wrk.out")" >&2; fi
  echo "$rps $p50 $p99 $us"
}

seed() { # $1 database URL, $2 sites
  local t0 t1
  t0=$(date +%s.%N)
  CCREG_DATABASE_URL="$1" "$BIN" seed --sites "$2" 2>/dev/null
  t1=$(date +%s.%N)
  python3 -c "print(f'{$t1-$t0:.1f}')"
}

SMALL_URL=$(db_url small)
LARGE_URL=$(db_url large)
echo "seeding $SMALL sites ($DB) ..."
small_seed=$(seed "$SMALL_URL" "$SMALL")
echo "seeding $SITES sites ($DB) ..."
large_seed=$(seed "$LARGE_URL" "$SITES")

start "$SMALL_URL"
TOKEN=$(agency_token)
read -r small_num_rps small_num_p50 small_num_p99 _ < <(BENCH_SITES=$SMALL load "$BASE" -s bench/numbers.lua -H "authorization: Bearer $TOKEN")
stop

start "$LARGE_URL"
large_ready=$READY_S
TOKEN=$(agency_token)
hwm() { awk '/VmHWM/ {print $2}' "/proc/$PID/status"; }
hwm_ready=$(hwm)
LICENCE=$(curl -fs "$BASE/api/v1/public/licences/CCL-2026-000001-16" | json '["result"]' >/dev/null && echo CCL-2026-000001-16)
read -r h_rps h_p50 h_p99 h_us < <(load "$BASE/healthz")
read -r l_rps l_p50 l_p99 l_us < <(load "$BASE/api/v1/verify/licences/$LICENCE" -H "authorization: Bearer $TOKEN")
read -r n_rps n_p50 n_p99 n_us < <(BENCH_SITES=$SITES load "$BASE" -s bench/numbers.lua -H "authorization: Bearer $TOKEN")

hwm_loaded=$(hwm)
python3 - "$SITES" >"$WORK/bulk.json" <<'PY'
import json, random, sys
sites = int(sys.argv[1]); random.seed(7); items = []
for k in range(10000):
    i = random.randrange(sites)
    kind = k % 4
    if kind == 0: items.append({"type": "number", "value": f"+{925800000000 + i*1000 + random.randrange(10)}"})
    elif kind == 1: items.append({"type": "number", "value": f"+{925800000000 + i*1000 + 100 + random.randrange(100)}"})
    elif kind == 2: items.append({"type": "ip", "value": f"100.{64 + (i*16)//65536}.{((i*16)//256)%256}.{(i*16)%256 + 3}"})
    else: items.append({"type": "registration_number", "value": f"SEED{i//10:07d}"})
print(json.dumps({"items": items}))
PY
bulk_times=()
for _ in 1 2 3 4 5; do
  bulk_times+=("$(curl -fs -o "$WORK/bulk.out" -w '%{time_total}' "$BASE/api/v1/verify/bulk" \
    -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' --data-binary @"$WORK/bulk.json")")
done
licensed=$(json '["results"]' <"$WORK/bulk.out" | python3 -c "import sys,ast; r=ast.literal_eval(sys.stdin.read()); print(sum(1 for x in r if x.get('result')=='licensed'))")
peak_kb=$(awk '/VmHWM/ {print $2}' "/proc/$PID/status")
stop

python3 - <<PY
h, l, n, sn = float("$h_rps"), float("$l_rps"), float("$n_rps"), float("$small_num_rps")
bulk = sorted(float(t) for t in "${bulk_times[*]}".split())
def ms(s):
    s = s.strip()
    for unit, f in (("us", 0.001), ("ms", 1), ("s", 1000)):
        if s.endswith(unit): return float(s[:-len(unit)]) * f
    return float(s)
print(f"""
ccreg verification benchmark — release build, $DB, wrk -t$THREADS -c$CONNECTIONS -d$DURATION, $(nproc) cores
registry: $SITES sites (seeded in ${large_seed}s), small registry: $SMALL sites (seeded in ${small_seed}s)

| endpoint                     | req/s    | vs /healthz | p50      | p99      | server CPU/request |
|------------------------------|----------|-------------|----------|----------|--------------------|
| /healthz                     | {h:8.0f} |      100 %  | $h_p50 | $h_p99 | $h_us us |
| verify licence               | {l:8.0f} | {100*l/h:9.0f} % | $l_p50 | $l_p99 | $l_us us |
| verify number ($SITES sites) | {n:8.0f} | {100*n/h:9.0f} % | $n_p50 | $n_p99 | $n_us us |
| verify number ($SMALL sites)   | {sn:8.0f} |             | $small_num_p50 | $small_num_p99 |

number p50 on $SITES sites / on $SMALL sites: {ms("$n_p50")/ms("$small_num_p50"):.2f}x, p99: {ms("$n_p99")/ms("$small_num_p99"):.2f}x (target <= 1.5x)
bulk 10,000 mixed items: median {1000*bulk[len(bulk)//2]:.0f} ms, best {1000*bulk[0]:.0f} ms over {len(bulk)} runs ($licensed licensed)
server peak memory (VmHWM): {int("$peak_kb")/1024:.0f} MiB = {int("$peak_kb")*1024/1e6:.0f} MB (target < 150 MB); after start and sign-ins {int("$hwm_ready")/1024:.0f} MiB, after the loads {int("$hwm_loaded")/1024:.0f} MiB
ready to serve $SITES sites: ${large_ready} s after start (target <= 2 s)
""")
PY
