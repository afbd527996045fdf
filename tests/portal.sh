# Sourced by the CI scripts in tests/*/run.sh: runs a real `zhiban serve` on
# a free port over a fresh data directory, and stops it when the script ends.
#   start_portal [ENV=VALUE ...]   extra environment for the server
# Sets: bin (the binary: ZHIBAN_BIN or target/debug/zhiban), data (its data
# directory), base (http://127.0.0.1:PORT). ZHIBAN__PUBLIC_URL is the base.

bin="${ZHIBAN_BIN:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/target/debug/zhiban}"
data="$(mktemp -d)"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')"
base="http://127.0.0.1:$port"
portal_pid=""
stop_portal() {
  if [ -n "$portal_pid" ]; then kill "$portal_pid" 2>/dev/null || true; fi
  rm -rf "$data"
}
trap stop_portal EXIT

start_portal() {
  env ZHIBAN__LOG__LEVEL=warn ZHIBAN__PUBLIC_URL="$base" "$@" \
    "$bin" --data-dir "$data" serve --listen "127.0.0.1:$port" >"$data/server.log" 2>&1 &
  portal_pid=$!
  for _ in $(seq 1 300); do
    if curl -fs "$base/readyz" >/dev/null 2>&1; then return 0; fi
    sleep 0.2
  done
  cat "$data/server.log"
  return 1
}
