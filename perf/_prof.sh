#!/usr/bin/env bash
# Service dashboards and benchmark reports with a million responses stored: the p95
# latency of service dashboards under concurrent requests (goal < 50 ms), and the time
# to write 1,000 reports (goal < 10 s).
#
#   perf/dashboard.sh [sqlite|postgres] [SECONDS]
#
# Uses the one-million-response wave perf/analytics.sh generates and keeps in
# target/perf/ (it is generated first when missing). Needs wrk (Debian package `wrk`).
set -euo pipefail
cd "$(dirname "$0")/.."
BACKEND=${1:-sqlite}
DURATION=${2:-20}
CONNECTIONS=${CONNECTIONS:-16}
RESPONSES=${RESPONSES:-1000000}
SERVICES=${SERVICES:-20000}
PORT=${PORT:-18282}
PG_ADMIN_URL=${PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}
export SAMSKAP_MIN_CELL=${SAMSKAP_MIN_CELL:-5}
export SAMSKAP_SECRET_KEY=benchmark-secret-key-0123456789abcdef
export SAMSKAP_SURVEYS_DIR=$PWD/surveys
export RUST_LOG=warn

command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }
# shellcheck source=perf/large_wave.sh
source perf/large_wave.sh
WORK=$(mktemp -d)
cleanup() {
  [ -n "${SERVER:-}" ] && kill "$SERVER" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

# An admin account (sees every service) with a known password.
EMAIL=perf-admin@bench.invalid
PASSWORD=perf-password-0123456789
if ! echo "$PASSWORD" | "$BIN" user add --email "$EMAIL" --role admin --password-stdin >/dev/null 2>&1; then
  :  # exists from an earlier run
fi
"$BIN" serve --bind "127.0.0.1:$PORT" >"$WORK/server.log" 2>&1 &
SERVER=$!
for _ in $(seq 1 100); do curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
JAR=$WORK/cookies
curl -fsS -c "$JAR" -b "$JAR" "http://127.0.0.1:$PORT/login" >"$WORK/login.html"
CSRF=$(grep -o 'name="_csrf" value="[^"]*"' "$WORK/login.html" | head -1 | sed 's/.*value="//; s/"//')
curl -fsS -c "$JAR" -b "$JAR" -o /dev/null --data-urlencode "_csrf=$CSRF" --data-urlencode "email=$EMAIL" \
  --data-urlencode "password=$PASSWORD" "http://127.0.0.1:$PORT/login"
COOKIE=$(sed 's/^#HttpOnly_//' "$JAR" | awk '!/^#/ && NF >= 7 {printf "%s%s=%s", sep, $6, $7; sep="; "}')
FIRST=$(head -1 "$DIR/codes.txt")
echo "== $BACKEND: first dashboard after a data change (computes and caches the wave's results)"
STATUS=$(curl -sS -o /dev/null -H "Cookie: $COOKIE" -w "%{http_code} in %{time_total} s" "http://127.0.0.1:$PORT/services/$FIRST")
echo "$STATUS"
case "$STATUS" in 200*) ;; *) echo "the dashboard did not load: is the admin account's password as set here?" >&2; exit 1 ;; esac
echo "== $BACKEND: dashboards of random services, $CONNECTIONS connections, ${DURATION} s"
SP=$(jobs -p | head -1)
( sleep 4; perf record -F 499 -g -p $SP -o /tmp/perf.data -- sleep 10 >/dev/null 2>&1 ) &
wrk -t2 -c"$CONNECTIONS" -d"16s" -s perf/dashboard.lua "http://127.0.0.1:$PORT" -- "$DIR/codes.txt" "$COOKIE" | tail -2
wait
