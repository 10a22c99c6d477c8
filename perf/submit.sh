#!/usr/bin/env bash
# Durable submissions per second over HTTP versus the raw in-process insert rate, and the
# server's CPU time per completed respondent.
#
#   perf/submit.sh [sqlite|postgres] [SECONDS]
#
# Needs wrk (Debian package `wrk`). Uses a fresh database (a temporary SQLite file, or a
# new database on PostgreSQL at $PG_ADMIN_URL) and the release binary. Prints one summary
# line per measurement; docs/performance.md records the results.
set -euo pipefail
cd "$(dirname "$0")/.."
BACKEND=${1:-sqlite}
DURATION=${2:-20}
CONNECTIONS=${CONNECTIONS:-32}
PG_ADMIN_URL=${PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}
PORT=${PORT:-18181}

command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }
cargo build --release --locked --quiet --features bench
BIN=$PWD/target/release/samskap
WORK=$(mktemp -d)
cleanup() {
  [ -n "${SERVER:-}" ] && kill "$SERVER" 2>/dev/null || true
  wait 2>/dev/null || true
  if [ "$BACKEND" = postgres ]; then psql "$PG_ADMIN_URL" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

export SAMSKAP_SECRET_KEY=benchmark-secret-key-0123456789abcdef
export SAMSKAP_RESPONDENT_RATE_LIMIT=0
export SAMSKAP_MAIL_DIR=$WORK/mail
export SAMSKAP_SURVEYS_DIR=$PWD/surveys
export RUST_LOG=warn
if [ "$BACKEND" = postgres ]; then
  DB=samskap_bench_$$
  psql "$PG_ADMIN_URL" -qc "CREATE DATABASE $DB"
  export DATABASE_URL=${PG_ADMIN_URL%/*}/$DB
else
  export DATABASE_URL=sqlite://$WORK/bench.db
fi

submitted() { "$BIN" wave status "$1" | awk '/submitted by/ {n += $NF} END {print n + 0}'; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

echo "== $BACKEND: preparing invitations"
"$BIN" migrate >/dev/null
"$BIN" bench prepare --invitations "${INVITATIONS:-80000}" --out "$WORK/load.txt" | tee "$WORK/prepare.txt"
LOAD_WAVE=$(awk '{print $2}' "$WORK/prepare.txt" | tr -d ':')
"$BIN" bench prepare --invitations 20000 --out "$WORK/cpu.txt" | tee "$WORK/prepare2.txt"
CPU_WAVE=$(awk '{print $2}' "$WORK/prepare2.txt" | tr -d ':')

"$BIN" serve --bind "127.0.0.1:$PORT" >"$WORK/server.log" 2>&1 &
SERVER=$!
for _ in $(seq 1 100); do curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break; sleep 0.1; done

echo "== $BACKEND: HTTP, $CONNECTIONS connections, ${DURATION} s"
wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" -s perf/submit.lua "http://127.0.0.1:$PORT" -- "$WORK/load.txt" "$WORK/load.json" 2 | tee "$WORK/wrk.txt"
HTTP_DONE=$(submitted "$LOAD_WAVE")
HTTP_RATE=$(awk -v n="$HTTP_DONE" -v d="$DURATION" 'BEGIN {printf "%.0f", n / d}')
ERRORS=$(awk '/Non-2xx/ {print $NF}' "$WORK/wrk.txt"); ERRORS=${ERRORS:-0}

echo "== $BACKEND: CPU per respondent (one connection: page GET + submit POST)"
BEFORE=$(cpu_ticks "$SERVER"); DONE_BEFORE=$(submitted "$CPU_WAVE")
wrk -t1 -c1 -d10s -s perf/respondent.lua "http://127.0.0.1:$PORT" -- "$WORK/cpu.txt" "$WORK/cpu.json" >"$WORK/wrk-cpu.txt"
AFTER=$(cpu_ticks "$SERVER"); DONE=$(( $(submitted "$CPU_WAVE") - DONE_BEFORE ))
HZ=$(getconf CLK_TCK)
CPU_MS=$(awk -v t=$((AFTER - BEFORE)) -v hz="$HZ" -v n="$DONE" 'BEGIN {printf "%.3f", t / hz * 1000 / n}')
kill "$SERVER"; wait "$SERVER" 2>/dev/null || true; SERVER=

echo "== $BACKEND: raw in-process inserts"
RAW=$("$BIN" bench raw --responses "${RAW_RESPONSES:-5000}")
echo "$RAW"
RAW_RATE=$(echo "$RAW" | awk '{print $(NF-1)}')
RAW_CPU=$(echo "$RAW" | sed -E 's/.*, ([0-9.]+) ms CPU each.*/\1/')
RATIO=$(awk -v h="$HTTP_RATE" -v r="$RAW_RATE" 'BEGIN {printf "%.2f", h / r}')

echo
echo "RESULT backend=$BACKEND http_submissions_per_s=$HTTP_RATE (stored $HTTP_DONE in ${DURATION}s, non-2xx $ERRORS) raw_per_s=$RAW_RATE ratio=$RATIO cpu_ms_per_respondent=$CPU_MS (over $DONE respondents; raw storing alone: $RAW_CPU ms)"
