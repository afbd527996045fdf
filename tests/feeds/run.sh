#!/usr/bin/env bash
# Every feed of every site and channel, read by feedparser (PyPI) as feed
# readers do, and the sitemap by an XML parser, against a real `zhiban
# serve` on demo data. Fails on a feed that does not parse cleanly (the
# `bozo` flag), lacks titles, links or dates, or a sitemap URL that does not
# answer 200.
# Needs target/debug/zhiban (or ZHIBAN_BIN) and python3 with venv.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="${FEEDS_VENV:-${TMPDIR:-/tmp}/zhiban-feeds-venv}"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/pip" install --quiet --disable-pip-version-check 'feedparser>=6.0,<7' 'requests>=2.31,<3'

. "$here/../portal.sh"
start_portal
"$venv/bin/python" "$here/check_feeds.py" "$base"
