#!/usr/bin/env bash
# Runs the authlib relying party against a real `zhiban serve`.
# Needs target/debug/zhiban (or ZHIBAN_BIN) and python3 with pip.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="${OIDC_VENV:-${TMPDIR:-/tmp}/zhiban-oidc-venv}"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/pip" install --quiet --disable-pip-version-check 'authlib>=1.3,<2' 'requests>=2.31,<3'

. "$here/../portal.sh"

out="$("$bin" --data-dir "$data" oidc add-client --name "authlib 测试应用" \
  --redirect-uri http://127.0.0.1:9/callback --post-logout-uri http://127.0.0.1:9/bye)"
client_id="$(sed -n 's/^client_id=//p' <<<"$out")"
client_secret="$(sed -n 's/^client_secret=//p' <<<"$out")"

start_portal ZHIBAN__SECURITY__SIGN_IN_PER_MINUTE=600

"$venv/bin/python" "$here/authlib_rp.py" "$base" "$data/zhiban.db" "$client_id" "$client_secret"
