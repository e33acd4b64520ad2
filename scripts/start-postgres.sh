#!/usr/bin/env bash
# A throwaway PostgreSQL for tests: install if missing, initdb in a temp dir, start on
# 127.0.0.1:54329. Idempotent: a server already answering there is left alone.
# Prints the URL on success; exits non-zero (the tests then skip) on failure.
set -euo pipefail
PORT="${TAGWISE_PG_PORT:-54329}"
DIR="${TAGWISE_PG_DIR:-/tmp/tagwise-pgtest}"
URL="postgresql://postgres@127.0.0.1:${PORT}/postgres"

find_bin() {
  local d
  for d in /usr/lib/postgresql/*/bin; do
    [ -x "$d/initdb" ] && { echo "$d"; return 0; }
  done
  return 1
}

as_postgres() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

BIN="$(find_bin || true)"
if [ -z "$BIN" ]; then
  if [ "$(id -u)" != 0 ]; then echo "postgresql is not installed and we are not root" >&2; exit 1; fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q postgresql >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q postgresql >/dev/null; }
  BIN="$(find_bin)"
fi

if as_postgres "$BIN/pg_isready" -q -h 127.0.0.1 -p "$PORT" 2>/dev/null; then
  echo "$URL"; exit 0
fi

if [ ! -f "$DIR/PG_VERSION" ]; then
  rm -rf "$DIR"
  if [ "$(id -u)" = 0 ]; then install -d -o postgres -g postgres "$DIR"; else mkdir -p "$DIR"; fi
  as_postgres "$BIN/initdb" -D "$DIR" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
fi
as_postgres "$BIN/pg_ctl" -D "$DIR" -l "$DIR/log" -w -t 30 \
  -o "-c listen_addresses=127.0.0.1 -p $PORT -k $DIR" start >/dev/null
echo "$URL"
