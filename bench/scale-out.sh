#!/usr/bin/env bash
# Scale-out proof (issue 23, item 1; API.md §17): three `ccreg serve` processes on one
# PostgreSQL behind HAProxy. A test as well as a benchmark: it exits non-zero when a rule fails.
#
#   bench/scale-out.sh                   # 2,000-site registry, 10 s wrk runs, 12 s kill test
#   QUICK=1 bench/scale-out.sh           # CI: 200 sites, 3 s wrk runs, 8 s kill test
#   PG_URL=postgres://postgres@127.0.0.1:5432/postgres DB_NAME=ccreg_scale bench/scale-out.sh
#   BIN=target/debug/ccreg SITES=20000 DURATION=20s CONNECTIONS=32 bench/scale-out.sh
#
# Builds nothing: it uses target/release/ccreg (or $BIN). Needs PostgreSQL (PG_URL, where it
# may create databases: it makes DB_NAME, default ccreg_scale, and DB_NAME_cold, and drops
# both at exit), python3 and curl; HAProxy and wrk (Debian's `haproxy` and `wrk`, installed
# when missing and running as root). What it does, in order:
#  1. cold start: three `serve` started at the same moment (a) on an empty database (they
#     run the migrations at once) and (b) on a migrated, empty one (they create the bootstrap
#     admin at once), each time with an empty key directory (they generate the keys at once):
#     all must become ready and serve one JWKS, and (b) hold one bootstrap admin;
#  2. `ccreg migrate`, `seed --demo` (its staff and agency credentials are read from what it
#     prints) and `seed --sites $SITES` into DB_NAME, then three `serve` on it (one worker each,
#     a pool of 8, one shared CCREG_KEY_DIR) behind HAProxy (config written to a temp dir):
#     health checks of GET /readyz every 200 ms (fall 1, rise 1), `retries 3`, `option
#     redispatch 1` (every retry goes to another server), `retry-on all-retryable-errors`;
#  3. throughput with wrk on /healthz and on an agency's licence verification (a
#     client_credentials token of the seed's agency client): process 1 alone without HAProxy
#     (the baseline), then through HAProxy with 1, 2 and 3 processes in service (the others
#     put in maintenance over HAProxy's runtime API);
#  4. the kill -9 test: wrk verifying licences through HAProxy and, at the same time, writer
#     threads creating organisations through HAProxy as an operator, each POST with an
#     Idempotency-Key (retried with the same key on a connection error or a 502/503/504); one
#     process is killed with SIGKILL a third of the way in and restarted 2 s later. Every
#     verification must answer 2xx, every write be acknowledged (201) exactly once, and every
#     acknowledged organisation be read back afterwards;
#  5. the rules across processes, talking to the three processes directly: a licence revoked
#     through A is `not_licensed` on B and C within 1 s (polled every 20 ms); an access token
#     revoked on A, or the token of a user deactivated on A, is refused by B and C within
#     1 s; a creation on A sent again with its
#     Idempotency-Key to B is answered with A's object (another body: 422); a token from A
#     works on B and C, a refresh token from A rotates on B and the spent one is refused on C;
#     wrong passwords sent to A, B, C in turn lock the account after 5 (then 429 on every
#     process, the right password too), and 30 wrong guesses in parallel across the three are
#     checked at most 5 times; a portal session made on A is honoured by B and C, and signed
#     out on B it is refused by A and C.
# It ends with a table of every figure and rule; any failed rule makes the exit status 1.
#
# What HAProxy retries (haproxy 2.6 configuration.txt, "retry-on", "http-request
# disable-l7-retry"): `retry-on` takes no account of the method. Beyond `conn-failure` (the
# request never reached a server, always safe) it replays the buffered request after
# `empty-response` (the server closed without answering, as a killed process does),
# `response-timeout` and 500/502/503/504, whatever the method: a POST that a dying process had
# already committed would be replayed, and "it is very dangerous to use any retry-on value
# beside conn-failure and none" unless the application has replay protection. ccreg has it for
# creations only: the Idempotency-Key is stored with the created row in one transaction, and a
# replay answers the first response. So the config below disables L7 retries
# (`http-request disable-l7-retry`) for every request that is not GET/HEAD/OPTIONS/PUT/DELETE
# and carries no Idempotency-Key: such a POST (a transition, a token grant, a payment) is
# retried by HAProxy only when the connection failed before it was sent, and a client sees a
# 502 when the process died after receiving it, and must find out itself whether it took
# effect (re-read the object: transitions carry If-Match, so a blind resend is refused with
# 412 rather than applied twice). Requests bigger than one buffer (tune.bufsize, 16 kB: a
# document upload, a large bulk verification) are never L7-retried at all.
set -euo pipefail
cd "$(dirname "$0")/.."
QUICK=${QUICK:-0}
if [ "$QUICK" = 1 ]; then
  SITES=${SITES:-200} DURATION=${DURATION:-3s} KILL_SECS=${KILL_SECS:-8}
else
  SITES=${SITES:-2000} DURATION=${DURATION:-10s} KILL_SECS=${KILL_SECS:-12}
fi
CONNECTIONS=${CONNECTIONS:-16}
THREADS=${THREADS:-2}
WRITERS=${WRITERS:-4}
PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}
DB_NAME=${DB_NAME:-ccreg_scale}
BIN=${BIN:-${CARGO_TARGET_DIR:-target}/release/ccreg}
case "$DB_NAME" in *[!a-z0-9_]* | [0-9]* | "") echo "DB_NAME must be a plain lower-case identifier"; exit 2 ;; esac
[ -x "$BIN" ] || { echo "no $BIN: build it first (cargo build --release), or set BIN"; exit 1; }
case "$BIN" in /*) ;; *) BIN="$(pwd)/$BIN" ;; esac

missing=()
command -v haproxy >/dev/null || missing+=(haproxy)
command -v wrk >/dev/null || missing+=(wrk)
if [ ${#missing[@]} -gt 0 ] && [ "$(id -u)" = 0 ]; then
  echo "installing Debian's ${missing[*]}"
  apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1 ||
    { apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null; }
fi
for tool in haproxy wrk psql python3 curl; do
  command -v "$tool" >/dev/null || { echo "$tool is needed"; exit 1; }
done

WORK=$(mktemp -d)
PIDS=("" "" "" "") # the serve processes, by number 1-3
HAPROXY_PID=""
OTHER_PIDS=()
cleanup() {
  local status=$?
  set +e
  for pid in "${PIDS[@]}" "$HAPROXY_PID" "${OTHER_PIDS[@]:-}"; do [ -n "$pid" ] && kill "$pid" 2>/dev/null; done
  for pid in "${PIDS[@]}" "$HAPROXY_PID" "${OTHER_PIDS[@]:-}"; do [ -n "$pid" ] && wait "$pid" 2>/dev/null; done
  for db in "$DB_NAME" "${DB_NAME}_cold"; do
    psql "$PG_URL" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 ||
      psql "$PG_URL" -qc "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1
  done
  if [ "$status" != 0 ] && [ -z "${SHOWN_LOGS:-}" ]; then show_logs; fi
  rm -rf "$WORK"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 143' TERM INT HUP

show_logs() {
  local f
  for f in "$WORK"/*.log; do
    [ -s "$f" ] || continue
    printf '\n--- last lines of %s\n' "$(basename "$f")"
    tail -n 20 "$f"
  done
}

# The figures and rules for the final table: name, value, PASS/FAIL/info.
RESULTS="$WORK/results.tsv"
: >"$RESULTS"
result() { printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>"$RESULTS"; printf '  %-58s %-34s %s\n' "$1" "$2" "$3"; }

free_ports() { # $1 how many, all different
  python3 -c "
import socket
ss = [socket.socket() for _ in range($1)]
for s in ss: s.bind(('127.0.0.1', 0))
print(' '.join(str(s.getsockname()[1]) for s in ss))"
}
read -r P1 P2 P3 LB_PORT < <(free_ports 4)
PORTS=("" "$P1" "$P2" "$P3")
LB="http://127.0.0.1:$LB_PORT"
ADMIN_EMAIL=admin@scale.ccreg.pk
ADMIN_PASSWORD='a long scale-out admin passphrase'

pg_db() { # $1 name: a fresh database; prints its URL
  PGOPTIONS=--client-min-messages=warning psql "$PG_URL" -qc "DROP DATABASE IF EXISTS $1" -c "CREATE DATABASE $1" >/dev/null
  echo "${PG_URL%/*}/$1"
}

# Starts serve process $1 (1-3) on database $2 with key directory $3; appends to its log.
serve() {
  local n=$1 port=${PORTS[$1]}
  CCREG_DATABASE_URL="$2" CCREG_BIND="127.0.0.1:$port" CCREG_KEY_DIR="$3" \
    CCREG_WORKERS=1 CCREG_DB_POOL_SIZE=8 CCREG_TRUSTED_PROXIES=127.0.0.1 \
    CCREG_PUBLIC_URL="$LB" CCREG_PUBLIC_RATE_PER_MINUTE=1000000 CCREG_ACCESS_TOKEN_TTL_SECS=3600 \
    CCREG_BOOTSTRAP_ADMIN_EMAIL="$ADMIN_EMAIL" CCREG_BOOTSTRAP_ADMIN_PASSWORD="$ADMIN_PASSWORD" \
    RUST_LOG=warn "$BIN" serve >>"$WORK/serve-$n.log" 2>&1 &
  PIDS[$n]=$!
}

wait_ready() { # $1 process number, $2 seconds; fails if it died or never answered
  local n=$1 i
  for i in $(seq 1 $(($2 * 20))); do
    curl -fs "http://127.0.0.1:${PORTS[$n]}/readyz" >/dev/null 2>&1 && return 0
    kill -0 "${PIDS[$n]}" 2>/dev/null || return 1
    sleep 0.05
  done
  return 1
}

stop_all() {
  local n
  for n in 1 2 3; do [ -n "${PIDS[$n]}" ] && { kill "${PIDS[$n]}" 2>/dev/null || true; }; done
  for n in 1 2 3; do
    [ -n "${PIDS[$n]}" ] && { wait "${PIDS[$n]}" 2>/dev/null || true; }
    PIDS[$n]=""
  done
}

jwks_kids() { # the key ids each process serves, one line
  local n
  for n in 1 2 3; do
    curl -fs "http://127.0.0.1:${PORTS[$n]}/.well-known/jwks.json" 2>/dev/null |
      python3 -c 'import json,sys; print(",".join(sorted(k.get("kid","?") for k in json.load(sys.stdin)["keys"])))' 2>/dev/null || echo none
  done | sort -u | paste -sd' '
}

# The HTTP checks, in Python (standard library only): subcommands below.
cat >"$WORK/scale.py" <<'PY'
import csv, http.client, io, json, re, socket, sys, threading, time, urllib.parse, uuid

def request(port, method, path, body=None, headers=None, form=False, conn=None, timeout=10):
    h = dict(headers or {})
    data = None
    if body is not None:
        if form:
            data = urllib.parse.urlencode(body)
            h["content-type"] = "application/x-www-form-urlencoded"
        else:
            data = json.dumps(body)
            h["content-type"] = "application/json"
    c = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        c.request(method, path, body=data, headers=h)
        r = c.getresponse()
        raw = r.read()
    finally:
        if conn is None:
            c.close()
    return r.status, r.getheaders(), raw

def header(headers, name):
    return next((v for k, v in headers if k.lower() == name), None)

def cookie(headers, name):
    for k, v in headers:
        if k.lower() == "set-cookie" and v.startswith(name + "="):
            return v.split(";", 1)[0]
    return None

def token(port, **grant):
    s, _, raw = request(port, "POST", "/api/v1/auth/token", grant)
    if s != 200:
        raise SystemExit(f"token grant {grant.get('grant_type')} on :{port}: {s} {raw[:200]!r}")
    return json.loads(raw)

def bearer(t):
    return {"authorization": "Bearer " + t}

def out(**kw):
    print(json.dumps(kw))

def haproxy(sock, command):
    s = socket.socket(socket.AF_UNIX)
    s.connect(sock)
    s.sendall((command + "\n").encode())
    chunks = []
    while True:
        b = s.recv(65536)
        if not b:
            break
        chunks.append(b)
    return b"".join(chunks).decode()

def cmd_haproxy(sock, *words):
    print(haproxy(sock, " ".join(words)), end="")

def cmd_hastat(sock):
    """Backend retries and redispatches, and each server's status and check failures."""
    text = haproxy(sock, "show stat").lstrip("# ")
    rows = list(csv.DictReader(io.StringIO(text)))
    be = next(r for r in rows if r["pxname"] == "be_ccreg" and r["svname"] == "BACKEND")
    servers = {r["svname"]: r["status"] for r in rows if r["pxname"] == "be_ccreg" and r["svname"] not in ("BACKEND", "FRONTEND")}
    out(retries=int(be["wretr"] or 0), redispatches=int(be["wredis"] or 0), servers=servers)

def cmd_wait_up(sock, names, seconds):
    names, deadline = names.split(","), time.time() + float(seconds)
    while time.time() < deadline:
        rows = list(csv.DictReader(io.StringIO(haproxy(sock, "show stat").lstrip("# "))))
        st = {r["svname"]: r["status"] for r in rows if r["pxname"] == "be_ccreg"}
        if all(st.get(n, "").startswith("UP") for n in names):
            return
        time.sleep(0.05)
    raise SystemExit(f"servers {names} not UP in HAProxy after {seconds} s: {st}")

def cmd_tokens(port, seed_out, admin_email, admin_password):
    """The seed's credentials, and an agency token, a regulator token and an operator (signed
    up here) with a token; two active licences (one for wrk, one to revoke)."""
    creds = {}
    for line in open(seed_out):
        w = line.split()
        if len(w) >= 3 and w[0] in ("admin", "regulator", "inspector") and "@" in w[1]:
            creds[w[0]] = (w[1], w[2])
        if len(w) >= 5 and w[0] == "agency" and w[1] == "client_id":
            creds["agency"] = (w[2], w[4])
    if not {"agency", "regulator", "admin"} <= set(creds):
        raise SystemExit(f"no agency client or regulator in the seed's output: {open(seed_out).read()}")
    agency = token(port, grant_type="client_credentials", client_id=creds["agency"][0], client_secret=creds["agency"][1])
    reg_email, reg_password = creds["regulator"]
    regulator = token(port, grant_type="password", username=reg_email, password=reg_password)
    op_email, op_password = "writer@scale.ccreg.pk", "scale-out writer passphrase"
    s, _, raw = request(port, "POST", "/api/v1/auth/signup", {"email": op_email, "password": op_password, "full_name": "Scale Writer"})
    if s != 201:
        raise SystemExit(f"signup: {s} {raw[:200]!r}")
    operator = token(port, grant_type="password", username=op_email, password=op_password)
    s, _, raw = request(port, "GET", "/api/v1/licences?status=active&limit=10", headers=bearer(regulator["access_token"]))
    items = json.loads(raw)["items"] if s == 200 else []
    if len(items) < 2:
        raise SystemExit(f"fewer than two active licences: {s} {raw[:300]!r}")
    out(agency=agency["access_token"], regulator=regulator["access_token"], operator=operator["access_token"],
        op_email=op_email, op_password=op_password, reg_email=reg_email, reg_password=reg_password,
        admin_email=creds["admin"][0], admin_password=creds["admin"][1],
        wrk_licence=items[0]["licence_number"], revoke_licence=items[1]["licence_number"])

def cmd_writer(port, tok, seconds, threads, path):
    """Creates organisations through the balancer until the time is up, each with an
    Idempotency-Key, retrying with the same key on a connection error or 502/503/504."""
    deadline, lock = time.time() + float(seconds), threading.Lock()
    acked, errors, gave_up = [], [], []
    stats = {"client_retries": 0, "replayed": 0}
    def work(tid):
        conn, i = None, 0
        while time.time() < deadline:
            i += 1
            reg = f"SCALE-{tid}-{i}"
            body = {"legal_name": f"Scale Writer {tid}-{i} (Private) Limited", "registration_number": reg,
                    "tax_number": f"9{tid}{i:05d}-{i % 10}", "contact_email": f"w{tid}.{i}@scale.ccreg.pk",
                    "contact_phone": "021 34567890",
                    "registered_address": {"line1": f"Floor {i}", "city": "Karachi", "province": "Sindh",
                                           "postal_code": "75400", "country": "PK"}}
            key, done = str(uuid.uuid4()), False
            for attempt in range(40):
                try:
                    if conn is None:
                        conn = http.client.HTTPConnection("127.0.0.1", int(port), timeout=10)
                    s, h, raw = request(port, "POST", "/api/v1/organisations", body,
                                        {**bearer(tok), "idempotency-key": key}, conn=conn)
                except (OSError, http.client.HTTPException) as e:
                    conn = None
                    s, h, raw = None, [], str(e).encode()
                if s == 201:
                    with lock:
                        acked.append({"id": json.loads(raw)["id"], "reg": reg, "attempts": attempt + 1})
                        stats["replayed"] += header(h, "idempotency-replayed") == "true"
                    done = True
                    break
                if s in (None, 502, 503, 504):
                    with lock:
                        stats["client_retries"] += 1
                    if s is not None and header(h, "connection") == "close":
                        conn = None
                    time.sleep(0.25)
                    continue
                with lock:
                    errors.append({"reg": reg, "status": s, "body": raw[:200].decode(errors="replace")})
                done = True
                break
            if not done:
                with lock:
                    gave_up.append(reg)
    ts = [threading.Thread(target=work, args=(t,)) for t in range(1, int(threads) + 1)]
    for t in ts: t.start()
    for t in ts: t.join()
    json.dump({"acked": acked, "errors": errors, "gave_up": gave_up, **stats}, open(path, "w"))
    out(acked=len(acked), errors=len(errors), gave_up=len(gave_up), **stats)

def cmd_readback(port, tok, path):
    """Reads every acknowledged organisation back through the balancer; counts the writer's."""
    w = json.load(open(path))
    conn = http.client.HTTPConnection("127.0.0.1", int(port), timeout=10)
    missing = []
    for a in w["acked"]:
        s, _, raw = request(port, "GET", f"/api/v1/organisations/{a['id']}", headers=bearer(tok), conn=conn)
        if s != 200 or json.loads(raw).get("registration_number") != a["reg"]:
            missing.append({"id": a["id"], "reg": a["reg"], "status": s})
    regs, cursor = [], None
    while True:
        q = "/api/v1/organisations?limit=500" + (f"&cursor={urllib.parse.quote(cursor)}" if cursor else "")
        s, _, raw = request(port, "GET", q, headers=bearer(tok), conn=conn)
        page = json.loads(raw)
        regs += [o["registration_number"] for o in page["items"]]
        cursor = page.get("next_cursor")
        if not cursor:
            break
    acked = {a["reg"] for a in w["acked"]}
    unacked_present = [r for r in regs if r not in acked]
    out(checked=len(w["acked"]), present=len(w["acked"]) - len(missing), missing=missing,
        stored=len(regs), stored_not_acknowledged=unacked_present)

def poll_until(port, path, headers, done, t_from, result, name, seconds=5.0):
    conn = http.client.HTTPConnection("127.0.0.1", int(port), timeout=5)
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        s, _, raw = request(port, "GET", path, headers=headers, conn=conn)
        if done(s, raw):
            result[name] = time.perf_counter()
            return
        time.sleep(0.02)

def race(path, headers, done, a, others, act):
    """Polls `path` on the other processes every 20 ms while `act` runs on A; returns each
    one's delay (s) from A's answer to the first answer that satisfies `done`."""
    seen, ts = {}, []
    for p in others:
        ts.append(threading.Thread(target=poll_until, args=(p, path, headers, done, 0, seen, p)))
    for t in ts: t.start()
    act()
    t_ack = time.perf_counter()
    for t in ts: t.join()
    return {p: (round(max(0.0, seen[p] - t_ack), 3) if p in seen else None) for p in others}

def cmd_revocation(a, b, c, reg, agency, licence):
    vh = bearer(agency)
    path = f"/api/v1/verify/licences/{licence}"
    before = {p: json.loads(request(p, "GET", path, headers=vh)[2])["result"] for p in (b, c)}
    if set(before.values()) != {"licensed"}:
        raise SystemExit(f"{licence} is not licensed before the revocation: {before}")
    s, h, _ = request(a, "GET", f"/api/v1/licences/{licence}", headers=bearer(reg))
    etag = header(h, "etag")
    answer = {}
    def act():
        answer["status"] = request(a, "POST", f"/api/v1/licences/{licence}/revoke", {"reason": "scale-out proof: revoked through process A"},
                                   {**bearer(reg), "if-match": etag})[0]
    delays = race(path, vh, lambda s, raw: s == 200 and json.loads(raw)["result"] == "not_licensed", a, [b, c], act)
    out(revoke_status=answer["status"], delays=delays)

def cmd_token_revocation(a, b, c, email, password):
    t = token(a, grant_type="password", username=email, password=password)["access_token"]
    ok = {p: request(p, "GET", "/api/v1/me", headers=bearer(t))[0] for p in (b, c)}
    answer = {}
    def act():
        answer["status"] = request(a, "POST", "/api/v1/auth/revoke", {"token": t})[0]
    delays = race("/api/v1/me", bearer(t), lambda s, raw: s == 401, a, [b, c], act)
    out(before=ok, revoke_status=answer["status"], delays=delays)

def cmd_deactivation(a, b, c, admin_email, admin_password):
    """An admin on A deactivates a staff user; the user's access token on B and C."""
    admin = token(a, grant_type="password", username=admin_email, password=admin_password)["access_token"]
    email, password = f"officer-{uuid.uuid4().hex[:8]}@scale.ccreg.pk", "an officer passphrase 1"
    s, h, raw = request(a, "POST", "/api/v1/users", {"email": email, "password": password,
                        "full_name": "Scale Officer", "role": "regulator"}, bearer(admin))
    if s != 201:
        raise SystemExit(f"POST /users: {s} {raw[:200]!r}")
    uid, etag = json.loads(raw)["id"], header(h, "etag")
    t = token(a, grant_type="password", username=email, password=password)["access_token"]
    ok = {p: request(p, "GET", "/api/v1/me", headers=bearer(t))[0] for p in (b, c)}
    answer = {}
    def act():
        answer["status"] = request(a, "PATCH", f"/api/v1/users/{uid}", {"active": False}, {**bearer(admin), "if-match": etag})[0]
    delays = race("/api/v1/me", bearer(t), lambda s, raw: s == 401, a, [b, c], act)
    out(before=ok, patch_status=answer["status"], delays=delays)

def cmd_sessions(a, b, c, email, password):
    first = token(a, grant_type="password", username=email, password=password)
    me = {p: request(p, "GET", "/api/v1/me", headers=bearer(first["access_token"]))[0] for p in (a, b, c)}
    s_refresh, _, raw = request(b, "POST", "/api/v1/auth/token", {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]})
    second = json.loads(raw) if s_refresh == 200 else {}
    me_new = request(c, "GET", "/api/v1/me", headers=bearer(second.get("access_token", "x")))[0]
    s_reuse = request(c, "POST", "/api/v1/auth/token", {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]})[0]
    out(me_a=me[a], me_b=me[b], me_c=me[c], refresh_on_b=s_refresh,
        new_access_on_c=me_new, spent_refresh_on_c=s_reuse)

def cmd_idempotency(a, b, tok):
    """A creation on A, its request sent again with the same key to B (as HAProxy does when A
    dies after committing), and with the same key but another body to C."""
    key, reg = str(uuid.uuid4()), f"IDEM-{uuid.uuid4().hex[:8]}"
    body = {"legal_name": "Idempotent Replay (Private) Limited", "registration_number": reg,
            "tax_number": f"{int(uuid.uuid4().int % 10**7):07d}-1", "contact_email": "idem@scale.ccreg.pk",
            "contact_phone": "021 34567890",
            "registered_address": {"line1": "Plot 1", "city": "Karachi", "province": "Sindh",
                                   "postal_code": "75400", "country": "PK"}}
    h = {**bearer(tok), "idempotency-key": key}
    s1, _, raw1 = request(a, "POST", "/api/v1/organisations", body, h)
    s2, h2, raw2 = request(b, "POST", "/api/v1/organisations", body, h)
    id1 = json.loads(raw1).get("id") if s1 == 201 else None
    id2 = json.loads(raw2).get("id") if s2 == 201 else None
    s3 = request(b, "POST", "/api/v1/organisations", {**body, "legal_name": "Another body"}, h)[0]
    out(first=s1, again=s2, same_id=bool(id1) and id1 == id2, replayed=header(h2, "idempotency-replayed"), other_body=s3)

def signup(port, email, password):
    s, _, raw = request(port, "POST", "/api/v1/auth/signup", {"email": email, "password": password, "full_name": "Lock Out"})
    if s != 201:
        raise SystemExit(f"signup {email}: {s} {raw[:200]!r}")

def cmd_lockout(a, b, c):
    email, password = f"lockout-{uuid.uuid4().hex[:8]}@scale.ccreg.pk", "the right passphrase 1"
    signup(a, email, password)
    order = [a, b, c, a, b, c]
    wrong = [request(p, "POST", "/api/v1/auth/token", {"grant_type": "password", "username": email, "password": "a wrong passphrase"})[0] for p in order]
    right = []
    for p in (a, b, c):
        s, h, _ = request(p, "POST", "/api/v1/auth/token", {"grant_type": "password", "username": email, "password": password})
        right.append((s, header(h, "retry-after")))
    # 30 wrong guesses at once, spread over the three processes: at most 5 may be checked.
    email2 = f"lockout-{uuid.uuid4().hex[:8]}@scale.ccreg.pk"
    signup(b, email2, password)
    statuses, lock = [], threading.Lock()
    def guess(p):
        s = request(p, "POST", "/api/v1/auth/token", {"grant_type": "password", "username": email2, "password": "another wrong one"}, timeout=60)[0]
        with lock:
            statuses.append(s)
    ts = [threading.Thread(target=guess, args=([a, b, c][i % 3],)) for i in range(30)]
    for t in ts: t.start()
    for t in ts: t.join()
    out(wrong=wrong, right=right, parallel_401=statuses.count(401), parallel_429=statuses.count(429),
        parallel_other=[s for s in statuses if s not in (401, 429)])

def csrf(body):
    m = re.search(rb'name="csrf_token" value="([^"]+)"', body) or re.search(rb'value="([^"]+)"[^>]*name="csrf_token"', body)
    return m.group(1).decode() if m else None

def cmd_portal(a, b, c, email, password):
    s, h, body = request(a, "GET", "/account/sign-in")
    pre, tok = cookie(h, "ccreg_presession"), csrf(body)
    if not (s == 200 and pre and tok):
        raise SystemExit(f"GET /account/sign-in on A: {s}, pre-session cookie {bool(pre)}, csrf {bool(tok)}")
    s, h, _ = request(a, "POST", "/account/sign-in", {"csrf_token": tok, "email": email, "password": password},
                      {"cookie": pre}, form=True)
    session = cookie(h, "ccreg_session")
    if not (s == 303 and session):
        raise SystemExit(f"POST /account/sign-in on A: {s}, no session cookie")
    cookies = {"cookie": session}
    seen = {}
    for name, p in (("A", a), ("B", b), ("C", c)):
        s, h, body = request(p, "GET", "/portal", headers=cookies)
        seen[name] = s
        if name == "B":
            out_token = csrf(body)
    s_out = None
    if out_token:
        s_out = request(b, "POST", "/account/sign-out", {"csrf_token": out_token}, cookies, form=True)[0]
    after = {}
    time.sleep(0.05)
    for name, p in (("A", a), ("C", c)):
        s, h, _ = request(p, "GET", "/portal", headers=cookies)
        after[name] = f"{s} {header(h, 'location') or ''}".strip()
    out(portal=seen, sign_out_on_b=s_out, after_sign_out=after)

if __name__ == "__main__":
    globals()["cmd_" + sys.argv[1].replace("-", "_")](*sys.argv[2:])
PY
py() { python3 "$WORK/scale.py" "$@"; }
jq_() { python3 -c "import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1], {}, {'d': d}))" "$1"; }

echo "ccreg scale-out: $BIN, PostgreSQL ${PG_URL%/*}/$DB_NAME, $(nproc) cores, QUICK=$QUICK"
echo "processes on :$P1 :$P2 :$P3, HAProxy on :$LB_PORT"
echo

# ---- 1. cold start ----------------------------------------------------------------------------
# (a) on an empty database: the three run the migrations at the same moment; (b) on a migrated,
# empty one: they create the bootstrap admin and the keys at the same moment.
cold_start() { # $1 label, $2 key directory; sets COLD_OK
  local n
  for n in 1 2 3; do serve "$n" "$COLD_URL" "$2"; done
  COLD_OK=0
  for n in 1 2 3; do wait_ready "$n" 60 && COLD_OK=$((COLD_OK + 1)); done
  if [ "$COLD_OK" = 3 ]; then
    result "cold start ($1): processes ready" "$COLD_OK of 3" PASS
  else
    result "cold start ($1): processes ready" "$COLD_OK of 3" FAIL
    for n in 1 2 3; do
      kill -0 "${PIDS[$n]}" 2>/dev/null || { echo "    process $n exited:"; tail -n 3 "$WORK/serve-$n.log" | sed 's/^/      /'; }
    done
  fi
  local kids
  kids=$(jwks_kids)
  if [ "$COLD_OK" = 3 ] && [ "$(wc -w <<<"$kids")" = 1 ] && [ "$kids" != none ]; then
    result "cold start ($1): one signing key served by all" "kid ${kids:0:16}" PASS
  elif [ "$COLD_OK" = 3 ]; then
    result "cold start ($1): one signing key served by all" "kids: $kids" FAIL
  fi
  stop_all
  for n in 1 2 3; do mv "$WORK/serve-$n.log" "$WORK/cold-$1-serve-$n.log"; done
}
echo "==> three serve processes started at once on an empty database, and on a migrated empty one"
COLD_URL=$(pg_db "${DB_NAME}_cold")
cold_start empty "$WORK/cold-keys-a"
COLD_URL=$(pg_db "${DB_NAME}_cold")
CCREG_DATABASE_URL="$COLD_URL" "$BIN" migrate >"$WORK/cold-migrate.log" 2>&1
cold_start migrated "$WORK/cold-keys-b"
admins=$(psql "$COLD_URL" -tAc "SELECT count(*) FROM users WHERE email = '$ADMIN_EMAIL'" 2>/dev/null || echo '?')
[ "$admins" = 1 ] && st=PASS || st=FAIL
result "cold start (migrated): bootstrap admins created" "$admins" "$st"
errors=$(cat "$WORK"/cold-migrated-serve-*.log | grep -c ' ERROR ' || true)
first=$(grep -h -m1 ' ERROR ' "$WORK"/cold-migrated-serve-*.log | head -n 1 | sed 's/.* ERROR //' | cut -c1-90 || true)
result "cold start (migrated): ERROR lines logged" "$errors${first:+ (\"$first\")}" info
psql "$PG_URL" -qc "DROP DATABASE IF EXISTS ${DB_NAME}_cold" >/dev/null

# ---- 2. the registry, three processes, HAProxy ------------------------------------------------
echo
echo "==> migrate, seed --demo, seed --sites $SITES"
DB_URL=$(pg_db "$DB_NAME")
CCREG_DATABASE_URL="$DB_URL" "$BIN" migrate >"$WORK/migrate.log" 2>&1
CCREG_DATABASE_URL="$DB_URL" "$BIN" seed --demo >"$WORK/seed.out" 2>"$WORK/seed-demo.log"
t0=$(date +%s.%N)
CCREG_DATABASE_URL="$DB_URL" "$BIN" seed --sites "$SITES" >/dev/null 2>"$WORK/seed-sites.log"
echo "  seeded $SITES sites in $(python3 -c "print(f'{$(date +%s.%N)-$t0:.1f}')") s"

for n in 1 2 3; do serve "$n" "$DB_URL" "$WORK/keys"; done
for n in 1 2 3; do wait_ready "$n" 60 || { echo "process $n did not become ready"; exit 1; }; done
kids=$(jwks_kids)
if [ "$(wc -w <<<"$kids")" = 1 ] && [ "$kids" != none ]; then
  result "one CCREG_KEY_DIR: one signing key on all three" "kid ${kids:0:16}" PASS
else
  result "one CCREG_KEY_DIR: one signing key on all three" "kids: $kids" FAIL
fi

cat >"$WORK/haproxy.cfg" <<EOF
global
    maxconn 4096
    stats socket $WORK/haproxy.sock mode 600 level admin

defaults
    mode http
    timeout connect 500ms
    timeout client 30s
    timeout server 30s
    timeout check 1s
    # A failed attempt is retried up to 3 times, each on another server (redispatch 1).
    retries 3
    option redispatch 1
    retry-on all-retryable-errors

frontend fe_ccreg
    bind 127.0.0.1:$LB_PORT
    option forwardfor
    default_backend be_ccreg

backend be_ccreg
    balance roundrobin
    option httpchk
    http-check send meth GET uri /readyz
    http-check expect status 200
    # Only requests that may be replayed safely are retried after they reached a server: the
    # idempotent methods, and POSTs carrying an Idempotency-Key (ccreg stores the key with the
    # creation and replays its first answer). Every other POST is retried only when the
    # connection failed before it was sent.
    http-request disable-l7-retry unless { method GET HEAD OPTIONS PUT DELETE } || { req.hdr(idempotency-key) -m found }
    default-server check inter 200ms fall 1 rise 1
    server s1 127.0.0.1:$P1
    server s2 127.0.0.1:$P2
    server s3 127.0.0.1:$P3
EOF
haproxy -c -q -f "$WORK/haproxy.cfg"
haproxy -db -f "$WORK/haproxy.cfg" >"$WORK/haproxy.log" 2>&1 &
HAPROXY_PID=$!
for _ in $(seq 1 100); do [ -S "$WORK/haproxy.sock" ] && break; sleep 0.05; done
py wait-up "$WORK/haproxy.sock" s1,s2,s3 10
curl -fs "$LB/readyz" >/dev/null

py tokens "$LB_PORT" "$WORK/seed.out" "$ADMIN_EMAIL" "$ADMIN_PASSWORD" >"$WORK/tokens.json"
tok() { jq_ "d['$1']" <"$WORK/tokens.json"; }
AGENCY=$(tok agency)
OPERATOR=$(tok operator)
WRK_LICENCE=$(tok wrk_licence)
echo "  agency token from the seed's client; verifying $WRK_LICENCE; revoking $(tok revoke_licence) later"

# ---- 3. throughput with 1, 2 and 3 processes --------------------------------------------------
# wrk; prints "rps p50 p99 non2xx socket_errors requests".
load() { # $1 url, rest: extra wrk args
  local url=$1 f="$WORK/wrk.out"
  shift
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --timeout 5s --latency "$@" "$url" >"$f"
  awk '
    /Requests\/sec/ {rps=$2} $1=="50%" {p50=$2} $1=="99%" {p99=$2}
    /Non-2xx/ {non=$NF} /requests in/ {req=$1}
    /Socket errors/ {gsub(",", ""); sock=$4+$6+$8+$10}
    END {print rps+0, p50, p99, non+0, sock+0, req+0}' "$f"
}
set_servers() { # $1: how many of s1..s3 in service, the others in maintenance
  local i names=()
  for i in 1 2 3; do
    if [ "$i" -le "$1" ]; then
      py haproxy "$WORK/haproxy.sock" set server "be_ccreg/s$i" state ready >/dev/null
      names+=("s$i")
    else
      py haproxy "$WORK/haproxy.sock" set server "be_ccreg/s$i" state maint >/dev/null
    fi
  done
  py wait-up "$WORK/haproxy.sock" "$(IFS=,; echo "${names[*]}")" 10
}

echo
echo "==> throughput, wrk -t$THREADS -c$CONNECTIONS -d$DURATION"
declare -A RPS P50 P99
throughput_failures=0
# The baseline: process 1 alone, without the balancer in the way.
read -r rps p50 p99 non sock req < <(load "http://127.0.0.1:$P1/healthz")
RPS[0,healthz]=$rps P50[0,healthz]=$p50 P99[0,healthz]=$p99
printf '  1 direct          healthz  %8.0f req/s  p50 %-9s p99 %s\n' "$rps" "$p50" "$p99"
read -r rps p50 p99 non sock req < <(load "http://127.0.0.1:$P1/api/v1/verify/licences/$WRK_LICENCE" -H "authorization: Bearer $AGENCY")
RPS[0,verify]=$rps P50[0,verify]=$p50 P99[0,verify]=$p99
printf '  1 direct          verify   %8.0f req/s  p50 %-9s p99 %s\n' "$rps" "$p50" "$p99"
for n in 1 2 3; do
  set_servers "$n"
  for what in healthz verify; do
    if [ "$what" = healthz ]; then
      read -r rps p50 p99 non sock req < <(load "$LB/healthz")
    else
      read -r rps p50 p99 non sock req < <(load "$LB/api/v1/verify/licences/$WRK_LICENCE" -H "authorization: Bearer $AGENCY")
    fi
    RPS[$n,$what]=$rps P50[$n,$what]=$p50 P99[$n,$what]=$p99
    [ "$non" = 0 ] && [ "$sock" = 0 ] || { throughput_failures=$((throughput_failures + non + sock)); echo "  warning: $what with $n: $non non-2xx, $sock socket errors"; }
    printf '  %d via HAProxy     %-8s %8.0f req/s  p50 %-9s p99 %s\n' "$n" "$what" "$rps" "$p50" "$p99"
  done
done
set_servers 3

# ---- 4. kill -9 under load --------------------------------------------------------------------
echo
echo "==> kill -9 of process 2 under load: wrk on verification and $WRITERS writers for ${KILL_SECS} s"
py hastat "$WORK/haproxy.sock" >"$WORK/hastat-before.json"
wrk -t"$THREADS" -c"$CONNECTIONS" -d"${KILL_SECS}s" --timeout 5s \
  -H "authorization: Bearer $AGENCY" "$LB/api/v1/verify/licences/$WRK_LICENCE" >"$WORK/wrk-kill.out" &
WRK_PID=$!
py writer "$LB_PORT" "$OPERATOR" "$KILL_SECS" "$WRITERS" "$WORK/writes.json" >"$WORK/writer.out" &
WRITER_PID=$!
OTHER_PIDS=("$WRK_PID" "$WRITER_PID")
sleep "$(python3 -c "print($KILL_SECS / 3)")"
kill -9 "${PIDS[2]}"
wait "${PIDS[2]}" 2>/dev/null || true
echo "  $(date +%T.%3N) killed process 2 (SIGKILL)"
sleep 2
t_restart=$(date +%s.%N)
serve 2 "$DB_URL" "$WORK/keys"
wait_ready 2 60 || { echo "process 2 did not come back"; exit 1; }
restart_s=$(python3 -c "print(f'{$(date +%s.%N)-$t_restart:.2f}')")
echo "  $(date +%T.%3N) process 2 restarted, ready in ${restart_s} s"
wait "$WRK_PID" || true
wait "$WRITER_PID" || { echo "the writer failed"; cat "$WORK/writer.out"; exit 1; }
OTHER_PIDS=()
py wait-up "$WORK/haproxy.sock" s1,s2,s3 10
py hastat "$WORK/haproxy.sock" >"$WORK/hastat-after.json"

read -r k_non k_sock k_req < <(awk '/Non-2xx/ {non=$NF} /requests in/ {req=$1}
  /Socket errors/ {gsub(",", ""); sock=$4+$6+$8+$10} END {print non+0, sock+0, req+0}' "$WORK/wrk-kill.out")
ha_retries=$(python3 -c "import json; a=json.load(open('$WORK/hastat-after.json')); b=json.load(open('$WORK/hastat-before.json')); print(a['retries']-b['retries'], a['redispatches']-b['redispatches'])")
writer=$(cat "$WORK/writer.out")
w() { jq_ "d['$1']" <<<"$writer"; }
py readback "$LB_PORT" "$OPERATOR" "$WORK/writes.json" >"$WORK/readback.json"
rb() { jq_ "$1" <"$WORK/readback.json"; }

[ "$k_req" -gt 0 ] && [ "$k_non" = 0 ] && [ "$k_sock" = 0 ] && st=PASS || st=FAIL
result "kill -9: verification requests through HAProxy" "$k_req, $k_non non-2xx, $k_sock socket errors" "$st"
result "kill -9: HAProxy retries / redispatches" "$(cut -d' ' -f1 <<<"$ha_retries") / $(cut -d' ' -f2 <<<"$ha_retries")" info
[ "$(w acked)" -gt 0 ] && [ "$(w errors)" = 0 ] && [ "$(w gave_up)" = 0 ] && st=PASS || st=FAIL
result "kill -9: writes acknowledged (201)" "$(w acked) ($(w replayed) replayed; $(w errors) refused, $(w gave_up) gave up)" "$st"
result "kill -9: writer's own retries (same key)" "$(w client_retries)" info
[ "$(rb "len(d['missing'])")" = 0 ] && [ "$(rb "d['checked']")" -gt 0 ] && st=PASS || st=FAIL
result "kill -9: acknowledged writes read back afterwards" "$(rb "d['present']") of $(rb "d['checked']") present" "$st"
[ "$(rb "len(d['stored_not_acknowledged'])")" = 0 ] && st=PASS || st=FAIL
result "kill -9: stored but never acknowledged" "$(rb "len(d['stored_not_acknowledged'])")" "$st"
result "kill -9: killed process restarted, ready after" "${restart_s} s" info
if [ "$(w errors)" != 0 ]; then jq_ "d['errors'][:5]" <"$WORK/writes.json"; fi
if [ "$(rb "len(d['missing'])")" != 0 ]; then rb "d['missing'][:5]"; fi

# ---- 5. the rules across processes, each process addressed directly ---------------------------
echo
echo "==> the rules across processes (A = :$P1, B = :$P2, C = :$P3)"
py revocation "$P1" "$P2" "$P3" "$(tok regulator)" "$AGENCY" "$(tok revoke_licence)" >"$WORK/revocation.json"
rv() { jq_ "$1" <"$WORK/revocation.json"; }
for p in "$P2" "$P3"; do
  d=$(rv "d['delays']['$p']")
  st=FAIL
  [ "$(rv "d['revoke_status']")" = 200 ] && [ "$d" != None ] && python3 -c "import sys; sys.exit(0 if $d <= 1.0 else 1)" && st=PASS
  result "licence revoked on A: not_licensed on :$p after" "$([ "$d" = None ] && echo 'never (5 s)' || echo "$d s")" "$st"
done

py token-revocation "$P1" "$P2" "$P3" "$(tok op_email)" "$(tok op_password)" >"$WORK/token-revocation.json"
tr_() { jq_ "$1" <"$WORK/token-revocation.json"; }
for p in "$P2" "$P3"; do
  d=$(tr_ "d['delays']['$p']")
  st=FAIL
  [ "$(tr_ "d['before']['$p']")" = 200 ] && [ "$(tr_ "d['revoke_status']")" = 200 ] && [ "$d" != None ] &&
    python3 -c "import sys; sys.exit(0 if $d <= 1.0 else 1)" && st=PASS
  result "access token revoked on A: 401 on :$p after" "$([ "$d" = None ] && echo 'never (5 s)' || echo "$d s")" "$st"
done

# The demo's admin (the bootstrap admin is not made where an admin exists already).
py deactivation "$P1" "$P2" "$P3" "$(tok admin_email)" "$(tok admin_password)" >"$WORK/deactivation.json"
de() { jq_ "$1" <"$WORK/deactivation.json"; }
for p in "$P2" "$P3"; do
  d=$(de "d['delays']['$p']")
  st=FAIL
  [ "$(de "d['before']['$p']")" = 200 ] && [ "$(de "d['patch_status']")" = 200 ] && [ "$d" != None ] &&
    python3 -c "import sys; sys.exit(0 if $d <= 1.0 else 1)" && st=PASS
  result "user deactivated on A: its token 401 on :$p after" "$([ "$d" = None ] && echo "never (5 s; PATCH $(de "d['patch_status']"))" || echo "$d s")" "$st"
done

py idempotency "$P1" "$P2" "$OPERATOR" >"$WORK/idempotency.json"
id_() { jq_ "$1" <"$WORK/idempotency.json"; }
[ "$(id_ "(d['first'], d['again'], d['same_id'], d['replayed'], d['other_body'])")" = "(201, 201, True, 'true', 422)" ] && st=PASS || st=FAIL
result "a creation on A sent again with its key to B; other body" "$(id_ "d['first']"), $(id_ "d['again']") same id: $(id_ "d['same_id']"), replayed: $(id_ "d['replayed']"); $(id_ "d['other_body']")" "$st"

py sessions "$P1" "$P2" "$P3" "$(tok op_email)" "$(tok op_password)" >"$WORK/sessions.json"
se() { jq_ "$1" <"$WORK/sessions.json"; }
[ "$(se "(d['me_a'], d['me_b'], d['me_c'])")" = "(200, 200, 200)" ] && st=PASS || st=FAIL
result "token from A accepted by A, B, C" "$(se "d['me_a']"), $(se "d['me_b']"), $(se "d['me_c']")" "$st"
[ "$(se "d['refresh_on_b']")" = 200 ] && [ "$(se "d['new_access_on_c']")" = 200 ] && st=PASS || st=FAIL
result "refresh token from A used on B; new token on C" "$(se "d['refresh_on_b']"); $(se "d['new_access_on_c']")" "$st"
[ "$(se "d['spent_refresh_on_c']")" = 401 ] && st=PASS || st=FAIL
result "the spent refresh token reused on C" "$(se "d['spent_refresh_on_c']")" "$st"

py lockout "$P1" "$P2" "$P3" >"$WORK/lockout.json"
lo() { jq_ "$1" <"$WORK/lockout.json"; }
[ "$(lo "d['wrong']")" = "[401, 401, 401, 401, 401, 429]" ] && st=PASS || st=FAIL
result "wrong passwords A,B,C,A,B,C" "$(lo "' '.join(map(str, d['wrong']))")" "$st"
[ "$(lo "[s for s, _ in d['right']]")" = "[429, 429, 429]" ] && st=PASS || st=FAIL
result "then the right password on A, B, C (locked out)" "$(lo "' '.join(f'{s} (Retry-After {r})' for s, r in d['right'])")" "$st"
[ "$(lo "d['parallel_401']")" -le 5 ] && [ "$(lo "len(d['parallel_other'])")" = 0 ] && st=PASS || st=FAIL
result "30 parallel wrong guesses over A, B, C: checked" "$(lo "d['parallel_401']") (401), $(lo "d['parallel_429']") 429" "$st"

py portal "$P1" "$P2" "$P3" "$(tok op_email)" "$(tok op_password)" >"$WORK/portal.json"
po() { jq_ "$1" <"$WORK/portal.json"; }
[ "$(po "sorted(d['portal'].values())")" = "[200, 200, 200]" ] && st=PASS || st=FAIL
result "portal session from A: GET /portal on A, B, C" "$(po "' '.join(str(v) for v in d['portal'].values())")" "$st"
[ "$(po "d['sign_out_on_b']")" = 303 ] && [ "$(po "sorted(v.split()[0] for v in d['after_sign_out'].values())")" = "['303', '303']" ] && st=PASS || st=FAIL
result "signed out on B: /portal on A, C" "$(po "', '.join(d['after_sign_out'].values())")" "$st"

result "ERROR lines in the three processes' logs (kill test, rules)" "$(cat "$WORK"/serve-*.log | grep -c ' ERROR ' || true)" info

# ---- the summary ------------------------------------------------------------------------------
fails=$(awk -F'\t' '$3 == "FAIL"' "$RESULTS" | wc -l)
[ "$throughput_failures" = 0 ] || fails=$((fails + 1))
python3 - "$RESULTS" <<PY
import sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])]
print(f"""
ccreg scale-out — $BIN, PostgreSQL, HAProxy $(haproxy -v | awk 'NR==1 {print $3}'), $(nproc) cores
(QUICK=$QUICK; $SITES seeded sites; one worker and a pool of 8 per process)

throughput (requests/s, p50, p99), wrk -t$THREADS -c$CONNECTIONS -d$DURATION, process 1 alone and then through HAProxy:

| processes | /healthz                    | verify licence (agency)     |
|-----------|-----------------------------|-----------------------------|
| 1, direct (no HAProxy) | ${RPS[0,healthz]%.*} req/s, ${P50[0,healthz]}, ${P99[0,healthz]} | ${RPS[0,verify]%.*} req/s, ${P50[0,verify]}, ${P99[0,verify]} |
| 1 via HAProxy | ${RPS[1,healthz]%.*} req/s, ${P50[1,healthz]}, ${P99[1,healthz]} | ${RPS[1,verify]%.*} req/s, ${P50[1,verify]}, ${P99[1,verify]} |
| 2 via HAProxy | ${RPS[2,healthz]%.*} req/s, ${P50[2,healthz]}, ${P99[2,healthz]} | ${RPS[2,verify]%.*} req/s, ${P50[2,verify]}, ${P99[2,verify]} |
| 3 via HAProxy | ${RPS[3,healthz]%.*} req/s, ${P50[3,healthz]}, ${P99[3,healthz]} | ${RPS[3,verify]%.*} req/s, ${P50[3,verify]}, ${P99[3,verify]} |
(non-2xx answers or socket errors in these runs: $throughput_failures)

| check | figure | result |
|---|---|---|""")
for name, value, status in rows:
    print(f"| {name} | {value} | {status} |")
PY
SHOWN_LOGS=1
if [ "$fails" != 0 ]; then
  echo
  echo "FAILED: $fails rule(s) above"
  show_logs
  exit 1
fi
echo
echo "every rule held"
