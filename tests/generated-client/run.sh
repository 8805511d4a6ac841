#!/usr/bin/env bash
# The OpenAPI document as an integrator meets it (issue 14), against a running ccreg:
#   1. openapi-spec-validator accepts the served spec;
#   2. @redocly/cli lint finds no error (warnings are allowed; redocly.yaml says why any rule
#      is off);
#   3. openapi-python-client generates a Python client from it without a warning;
#   4. flow.py walks the licensing flow (operator → dossier → licence → agency verification)
#      through that client only, unedited.
#
# Usage: tests/generated-client/run.sh BASE_URL ADMIN_EMAIL ADMIN_PASSWORD
# The tools are pinned (requirements.txt, REDOCLY_VERSION) and installed in a virtualenv under
# GENERATED_CLIENT_WORK (default: a new temporary directory, removed at the end).
set -euo pipefail

REDOCLY_VERSION=2.77.0

usage() { echo "usage: $0 BASE_URL ADMIN_EMAIL ADMIN_PASSWORD" >&2; exit 2; }
[ $# -eq 3 ] || usage
base=${1%/}
export CCREG_ADMIN_EMAIL=$2 CCREG_ADMIN_PASSWORD=$3

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
if [ -n "${GENERATED_CLIENT_WORK:-}" ]; then
  work=$GENERATED_CLIENT_WORK
  mkdir -p "$work"
else
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
fi

step() { printf '\n--> %s\n' "$*"; }

step "tools: requirements.txt in a virtualenv, @redocly/cli@$REDOCLY_VERSION through npx"
[ -x "$work/venv/bin/python" ] || python3 -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements.txt"
# openapi-python-client formats what it writes with ruff, which it brings into the venv.
export PATH="$work/venv/bin:$PATH"

step "the served spec: $base/api/v1/openapi.json"
curl -fsS "$base/api/v1/openapi.json" -o "$work/openapi.json"

step "openapi-spec-validator"
openapi-spec-validator "$work/openapi.json"

step "@redocly/cli lint (no errors allowed)"
(cd "$root" && npx --yes "@redocly/cli@$REDOCLY_VERSION" lint --config redocly.yaml \
  --format stylish "$work/openapi.json")

step "openapi-python-client generate (no warnings allowed)"
rm -rf "$work/client"
mkdir -p "$work/client"
openapi-python-client generate --path "$work/openapi.json" --config "$here/config.yaml" \
  --meta none --output-path "$work/client/ccreg_client" --fail-on-warning

step "the licensing flow through the generated client"
PYTHONPATH="$work/client" python "$here/flow.py" "$base"
