#!/usr/bin/env bash
# Benchmark of the operators' portal pages (API.md §14). Not a test: it measures and reports.
#
#   bench/portal.sh                      # 200 GETs of each page, release build, SQLite
#   N=1000 bench/portal.sh               # more requests per page
#   BIN=target/debug/ccreg bench/portal.sh
#
# Builds nothing: it uses target/release/ccreg (or $BIN; `cargo build --release` first). It
# seeds the demo registry (`ccreg seed --demo`) into a temporary SQLite database, serves it,
# signs in the demo's first operator through the portal's own form (GET the sign-in page for
# its csrf_token and pre-session cookie, POST the form, keep the session cookie), then times
# N GETs, one after the other on one keep-alive connection, of each of: the dashboard
# (/portal), that operator's organisation page and its application's page, and prints the
# median, p90 and worst response time of each in ms (each GET checked to be a 200; a few
# warm-up GETs first are not counted). Needs python3 and curl.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-200}
BIN=${BIN:-${CARGO_TARGET_DIR:-target}/release/ccreg}
[ -x "$BIN" ] || { echo "no $BIN: build it first (cargo build --release), or set BIN"; exit 1; }
WORK=$(mktemp -d)
PID=""
cleanup() {
  [ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
BASE="http://127.0.0.1:$PORT"
DB="sqlite://$WORK/ccreg.db"

echo "seeding the demo registry ..."
CCREG_DATABASE_URL="$DB" "$BIN" seed --demo >"$WORK/seed.out"
# "  operator   compliance1@demo.ccreg.pk  <password>": the first operator the seed prints.
read -r OP_EMAIL OP_PASSWORD < <(awk '$1 == "operator" {print $2, $3; exit}' "$WORK/seed.out")
[ -n "${OP_PASSWORD:-}" ] || { echo "no operator in the seed's output:"; cat "$WORK/seed.out"; exit 1; }

CCREG_DATABASE_URL="$DB" CCREG_BIND="127.0.0.1:$PORT" CCREG_KEY_DIR="$WORK/keys" \
  CCREG_PUBLIC_URL="$BASE" CCREG_PUBLIC_RATE_PER_MINUTE=1000000 RUST_LOG=warn \
  "$BIN" serve >"$WORK/server.log" 2>&1 &
PID=$!
for _ in $(seq 1 300); do curl -fs "$BASE/readyz" >/dev/null 2>&1 && break; sleep 0.1; done
curl -fs "$BASE/readyz" >/dev/null || { cat "$WORK/server.log"; exit 1; }

python3 - "$PORT" "$OP_EMAIL" "$OP_PASSWORD" "$N" "$BIN" <<'PY'
import http.client, json, re, statistics, sys, time, urllib.parse

port, email, password, n, binary = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
conn = http.client.HTTPConnection("127.0.0.1", port)

def request(method, path, body=None, headers=None):
    conn.request(method, path, body=body, headers=headers or {})
    res = conn.getresponse()
    return res, res.read()

def cookie(res, name):
    for header, value in res.getheaders():
        if header.lower() == "set-cookie" and value.startswith(name + "="):
            return value.split(";", 1)[0]
    return None

# Sign in through the portal's form, as a browser does.
res, body = request("GET", "/account/sign-in")
assert res.status == 200, f"GET /account/sign-in: {res.status}"
presession = cookie(res, "ccreg_presession")
token = re.search(rb'name="csrf_token" value="([^"]+)"', body) or re.search(rb'value="([^"]+)"[^>]*name="csrf_token"', body)
assert presession and token, "the sign-in page set no pre-session cookie or carried no csrf_token"
form = urllib.parse.urlencode({"csrf_token": token.group(1).decode(), "email": email, "password": password})
res, _ = request("POST", "/account/sign-in", form,
                 {"content-type": "application/x-www-form-urlencoded", "cookie": presession})
session = cookie(res, "ccreg_session")
assert res.status == 303 and session, f"POST /account/sign-in: {res.status}, no session cookie"
headers = {"cookie": session}

# The operator's organisation and application, through the API with a bearer token.
res, body = request("POST", "/api/v1/auth/token",
                    json.dumps({"grant_type": "password", "username": email, "password": password}),
                    {"content-type": "application/json"})
assert res.status == 200, f"token: {res.status} {body[:200]}"
bearer = {"authorization": "Bearer " + json.loads(body)["access_token"]}
org = json.loads(request("GET", "/api/v1/organisations", headers=bearer)[1])["items"][0]["id"]
app = json.loads(request("GET", "/api/v1/applications", headers=bearer)[1])["items"][0]["id"]

pages = [("dashboard", "/portal"), ("organisation", f"/portal/organisations/{org}"),
         ("application", f"/portal/applications/{app}")]
print(f"\nccreg portal pages — {binary}, SQLite, demo registry, signed in as {email}; "
      f"{n} sequential GETs a page on one keep-alive connection\n")
print(f"| {'page':<12} | {'path':<58} | median ms | p90 ms | max ms |")
print(f"|{'-' * 14}|{'-' * 60}|-----------|--------|--------|")
for name, path in pages:
    for _ in range(5):
        res, _ = request("GET", path, headers=headers)
        assert res.status == 200, f"GET {path}: {res.status}"
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        res, body = request("GET", path, headers=headers)
        times.append((time.perf_counter() - t0) * 1000)
        assert res.status == 200, f"GET {path}: {res.status}"
    times.sort()
    p90 = times[min(len(times) - 1, int(round(0.9 * len(times))) - 1)]
    print(f"| {name:<12} | {path:<58} | {statistics.median(times):9.2f} | {p90:6.2f} | {times[-1]:6.2f} |")
PY
