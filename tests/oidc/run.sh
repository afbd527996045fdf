#!/usr/bin/env bash
# Runs the authlib relying party against a real `zhiban serve`.
# Needs target/debug/zhiban (or ZHIBAN_BIN) and python3 with pip.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bin="${ZHIBAN_BIN:-$here/../../target/debug/zhiban}"
venv="${OIDC_VENV:-${TMPDIR:-/tmp}/zhiban-oidc-venv}"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/pip" install --quiet --disable-pip-version-check 'authlib>=1.3,<2' 'requests>=2.31,<3'

data="$(mktemp -d)"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')"
base="http://127.0.0.1:$port"
cleanup() { [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null || true; rm -rf "$data"; }
trap cleanup EXIT

out="$("$bin" --data-dir "$data" oidc add-client --name "authlib 测试应用" \
  --redirect-uri http://127.0.0.1:9/callback --post-logout-uri http://127.0.0.1:9/bye)"
client_id="$(sed -n 's/^client_id=//p' <<<"$out")"
client_secret="$(sed -n 's/^client_secret=//p' <<<"$out")"

ZHIBAN__LOG__LEVEL=warn ZHIBAN__SECURITY__SIGN_IN_PER_MINUTE=600 \
  "$bin" --data-dir "$data" serve --listen "127.0.0.1:$port" >"$data/server.log" 2>&1 &
pid=$!
for _ in $(seq 1 300); do
  if curl -fs "$base/readyz" >/dev/null 2>&1; then break; fi
  sleep 0.2
done
curl -fs "$base/readyz" >/dev/null || { cat "$data/server.log"; exit 1; }

"$venv/bin/python" "$here/authlib_rp.py" "$base" "$data/zhiban.db" "$client_id" "$client_secret"
