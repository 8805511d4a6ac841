#!/usr/bin/env bash
# Starts BINARY (`ccreg`) on a fresh SQLite database with a bootstrap admin on a free port,
# runs run.sh against it, and stops it. CI runs it on the release binary:
#   bash tests/generated-client/with-server.sh "${CARGO_TARGET_DIR:-target}/release/ccreg"
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: $0 PATH_TO_CCREG" >&2; exit 2; }
bin=$1
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
pid=""
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
admin_email=admin@client.ccreg.pk
admin_password="generated client admin $(python3 -c 'import secrets; print(secrets.token_hex(8))')"
CCREG_DATABASE_URL="sqlite://$work/ccreg.db" CCREG_BIND="127.0.0.1:$port" CCREG_KEY_DIR="$work/keys" \
  CCREG_BOOTSTRAP_ADMIN_EMAIL="$admin_email" CCREG_BOOTSTRAP_ADMIN_PASSWORD="$admin_password" \
  RUST_LOG=warn "$bin" serve >"$work/server.log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do curl -fs "$base/readyz" >/dev/null 2>&1 && break; sleep 0.2; done
curl -fs "$base/readyz" >/dev/null || { cat "$work/server.log"; exit 1; }
GENERATED_CLIENT_WORK="$work/tools" bash "$here/run.sh" "$base" "$admin_email" "$admin_password" ||
  { echo "--- server log"; cat "$work/server.log"; exit 1; }
