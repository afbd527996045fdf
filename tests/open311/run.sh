#!/usr/bin/env bash
# Open311 GeoReport v2 with a client nobody here wrote: Python `requests`
# (PyPI) and the standard library's XML parser, following the spec's
# examples, against a real `zhiban serve` with the demo data.
# Needs target/debug/zhiban (or ZHIBAN_BIN) and python3 with pip.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="${OPEN311_VENV:-${TMPDIR:-/tmp}/zhiban-open311-venv}"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/pip" install --quiet --disable-pip-version-check 'requests>=2.31,<3'

. "$here/../portal.sh"

out="$("$bin" --data-dir "$data" open311 add-key --name "12345 热线系统（测试）")"
api_key="$(sed -n 's/^api_key=//p' <<<"$out")"

start_portal ZHIBAN__SECURITY__LOOKUPS_PER_MINUTE=600

"$venv/bin/python" "$here/georeport_client.py" "$base" "$api_key"
