#!/usr/bin/env bash
# Page throughput: zhiban's home, guide and article pages vs nginx serving
# the very same HTML saved as static files, in the same run, with wrk
# keep-alive.
# Usage: tools/bench/pages.sh [seconds]   (needs: wrk, nginx, a release build)
set -euo pipefail
cd "$(dirname "$0")/../.."
secs=${1:-15}
bin=target/release/zhiban
[ -x "$bin" ] || cargo build --release --bin zhiban
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null; rm -rf "$work"' EXIT

ZHIBAN__LOG__LEVEL=info "$bin" serve --data-dir "$work/data" --listen 127.0.0.1:18090 >/dev/null 2>&1 &
for _ in $(seq 1 100); do curl -sf http://127.0.0.1:18090/readyz >/dev/null && break; sleep 0.2; done
guide=$(curl -sf 'http://127.0.0.1:18090/api/v1/services?limit=1' | python3 -c 'import json,sys; print(json.load(sys.stdin)["items"][0]["url"])')
mkdir -p "$work/www/services"
curl -sf http://127.0.0.1:18090/ -o "$work/www/index.html"
curl -sf "http://127.0.0.1:18090$guide" -o "$work/www/guide.html"
article=$(curl -sf http://127.0.0.1:18090/sites/city | grep -o 'href="/articles/[0-9]*"' | head -1 | cut -d'"' -f2)
curl -sf "http://127.0.0.1:18090$article" -o "$work/www/article.html"

cat > "$work/nginx.conf" <<NGINX
worker_processes 2;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events { worker_connections 1024; }
http {
  access_log off;
  keepalive_requests 1000000;
  sendfile on;
  default_type text/html;
  server {
    listen 127.0.0.1:18091;
    root $work/www;
  }
}
NGINX
nginx -c "$work/nginx.conf" -p "$work"
sleep 0.5

run() { # name url
  local out
  out=$(wrk -t2 -c64 -d"${secs}s" --latency "$2")
  local rps p99
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p99=$(awk '$1=="99%" {print $2}' <<<"$out")
  printf '| %s | %s | %s | %s |\n' "$1" "$2" "$rps" "$p99"
}

echo "wrk -t2 -c64 -d${secs}s, $(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ)"
echo "guide page: $guide ($(wc -c <"$work/www/guide.html") bytes), article: $article ($(wc -c <"$work/www/article.html") bytes), home: $(wc -c <"$work/www/index.html") bytes"
echo
echo "| server | url | requests/s | p99 latency |"
echo "|---|---|---|---|"
run "zhiban home" "http://127.0.0.1:18090/"
run "nginx home (static copy)" "http://127.0.0.1:18091/index.html"
run "zhiban guide" "http://127.0.0.1:18090$guide"
run "nginx guide (static copy)" "http://127.0.0.1:18091/guide.html"
run "zhiban article" "http://127.0.0.1:18090$article"
run "nginx article (static copy)" "http://127.0.0.1:18091/article.html"
# Not cached: rendered from the catalog on every request.
run "zhiban search results (uncached)" "http://127.0.0.1:18090/search?q=%E8%BA%AB%E4%BB%BD%E8%AF%81"
