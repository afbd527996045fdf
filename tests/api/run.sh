#!/usr/bin/env bash
# Schemathesis with every check against a real `zhiban serve` on demo data:
# it reads /api/openapi.json and fuzzes each operation, failing on a 5xx,
# an answer that does not match the document, a header or content type the
# document does not name, or bad input that is accepted.
# Needs target/debug/zhiban (or ZHIBAN_BIN) and python3 with venv.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="${API_VENV:-${TMPDIR:-/tmp}/zhiban-api-venv}"
if [ ! -x "$venv/bin/schemathesis" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/pip" install --quiet --disable-pip-version-check 'schemathesis>=4.3,<5'

. "$here/../portal.sh"
# The API's per-client limit is raised so that the fuzzer tests answers, not
# the rate limit (which the web tests cover).
start_portal ZHIBAN__SECURITY__LOOKUPS_PER_MINUTE=100000 ZHIBAN__ASSISTANT__PER_MINUTE=100000

status=0
# From the data directory: schemathesis keeps a cache where it runs.
cd "$data"
"$venv/bin/schemathesis" run "$base/api/openapi.json" \
  --checks all --workers 1 --max-examples "${API_EXAMPLES:-200}" --seed 1 \
  --no-color || status=$?
if [ "$status" -ne 0 ]; then
  echo "--- server log ---"
  tail -50 "$data/server.log"
fi
exit "$status"
