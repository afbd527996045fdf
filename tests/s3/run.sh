#!/usr/bin/env bash
# Uploaded files in an S3-compatible object store: starts moto's S3 server
# (PyPI; MinIO and the Chinese clouds speak the same API) and has
# `zhiban check-storage` write, read back and delete an object through the
# same FileStore the portal uses. A missing bucket must be reported.
set -euo pipefail
cd "$(dirname "$0")/../.."
VENV="${S3_VENV:-${TMPDIR:-/tmp}/zhiban-s3-venv}"
LOGS="$(mktemp -d)"
if [ ! -x "$VENV/bin/moto_server" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q "moto[server]"
fi
PORT="${S3_PORT:-9199}"
"$VENV/bin/moto_server" -p "$PORT" > "$LOGS/moto.log" 2>&1 &
MOTO=$!
trap 'kill $MOTO 2>/dev/null || true; rm -rf "$LOGS"' EXIT
for _ in $(seq 1 50); do
  curl -s -o /dev/null "http://127.0.0.1:$PORT/" && break
  sleep 0.2
done
curl -s -f -X PUT "http://127.0.0.1:$PORT/zhiban" -o /dev/null
export AWS_ENDPOINT="http://127.0.0.1:$PORT" AWS_ALLOW_HTTP=true \
  AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1
BIN="${ZHIBAN_BIN:-target/debug/zhiban}"
[ -x "$BIN" ] || cargo build --bin zhiban
ZHIBAN__STORAGE_URL=s3://zhiban/files ZHIBAN__LOG__LEVEL=warn "$BIN" check-storage
if ZHIBAN__STORAGE_URL=s3://no-such-bucket/files ZHIBAN__LOG__LEVEL=warn "$BIN" check-storage; then
  echo "check-storage should fail for a missing bucket" >&2
  exit 1
fi
echo "S3 storage: ok"
