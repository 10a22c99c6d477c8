#!/usr/bin/env bash
# A live national wave: the one-million-response wave perf/analytics.sh generates stays
# open while submissions arrive at RATE a second for SECONDS and CONNECTIONS connections
# read random service dashboards. Measures failed submissions and their latency, the
# dashboards' p95 (goal < 50 ms), how long an accepted submission takes to appear in the
# published numbers (goal < 10 s) and the server's peak RSS (goal < 2 GB).
#
#   perf/live.sh [sqlite|postgres] [SECONDS] [INSTANCES]     (defaults: sqlite 30 1)
#
# INSTANCES=2 (PostgreSQL only) runs two servers on the same database, the dashboards and
# submissions split between them. Needs wrk (Debian package `wrk`). Each run adds
# RATE x SECONDS responses to the wave. docs/performance.md records the results.
set -euo pipefail
cd "$(dirname "$0")/.."
BACKEND=${1:-sqlite}
DURATION=${2:-30}
INSTANCES=${3:-1}
RATE=${RATE:-20}
CONNECTIONS=${CONNECTIONS:-16}
RESPONSES=${RESPONSES:-1000000}
SERVICES=${SERVICES:-20000}
PORT=${PORT:-18383}
PG_ADMIN_URL=${PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}
export SAMSKAP_MIN_CELL=${SAMSKAP_MIN_CELL:-5}
export SAMSKAP_SECRET_KEY=benchmark-secret-key-0123456789abcdef
export SAMSKAP_SURVEYS_DIR=$PWD/surveys
export SAMSKAP_RESPONDENT_RATE_LIMIT=0
export RUST_LOG=${RUST_LOG:-warn,samskap::app::analytics=debug,samskap::analytics::publisher=info}
export LOG_FORMAT=json

command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }
if [ "$INSTANCES" != 1 ] && [ "$BACKEND" != postgres ]; then
  echo "two instances share a database only on PostgreSQL" >&2; exit 2
fi
# shellcheck source=perf/large_wave.sh
source perf/large_wave.sh
WORK=$(mktemp -d)
SERVERS=()
cleanup() {
  for pid in "${SERVERS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  # The servers' logs (the publisher's computations, warnings) stay for a look after.
  cp "$WORK"/server*.log "$DIR"/ 2>/dev/null || true
  rm -rf "$WORK"
  # The wave has more responses now: perf/analytics.sh exports its Parquet copy again
  # (DuckDB's side of the cross-check would otherwise miss them and fail).
  rm -rf "$DIR/parquet"
}
trap cleanup EXIT

"$BIN" migrate >/dev/null
NEEDED=$((RATE * DURATION + 100))
"$BIN" bench prepare --wave "$WAVE" --invitations "$NEEDED" --out "$WORK/tokens.txt" >/dev/null
EMAIL=perf-admin@bench.invalid
PASSWORD=perf-password-0123456789
echo "$PASSWORD" | "$BIN" user add --email "$EMAIL" --role admin --password-stdin >/dev/null 2>&1 || true

URLS=()
for i in $(seq 0 $((INSTANCES - 1))); do
  P=$((PORT + i))
  "$BIN" serve --bind "127.0.0.1:$P" >"$WORK/server$i.log" 2>&1 &
  SERVERS+=("$!")
  URLS+=("http://127.0.0.1:$P")
done
for url in "${URLS[@]}"; do
  for _ in $(seq 1 300); do curl -fsS "$url/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
done
COOKIES=()
for url in "${URLS[@]}"; do
  JAR=$WORK/cookies-${url##*:}
  curl -fsS -c "$JAR" -b "$JAR" "$url/login" >"$WORK/login.html"
  CSRF=$(grep -o 'name="_csrf" value="[^"]*"' "$WORK/login.html" | head -1 | sed 's/.*value="//; s/"//')
  curl -fsS -c "$JAR" -b "$JAR" -o /dev/null --data-urlencode "_csrf=$CSRF" --data-urlencode "email=$EMAIL" \
    --data-urlencode "password=$PASSWORD" "$url/login"
  COOKIES+=("$(sed 's/^#HttpOnly_//' "$JAR" | awk '!/^#/ && NF >= 7 {printf "%s%s=%s", sep, $6, $7; sep="; "}')")
done

echo "== $BACKEND, $INSTANCES instance(s): waiting for the first publication of the wave"
STARTED=$(date +%s.%N)
for i in "${!URLS[@]}"; do
  until curl -fsS -o /dev/null -H "Cookie: ${COOKIES[$i]}" "${URLS[$i]}/api/v1/waves/$WAVE/psychometrics"; do
    sleep 0.5
  done
done
echo "first publication served after $(python3 -c "import time; print(f'{time.time() - $STARTED:.1f}')") s"

echo "== $BACKEND: $RATE submissions/s for ${DURATION} s while $CONNECTIONS connections read dashboards"
PER=$((CONNECTIONS / INSTANCES))
READERS=()
for i in "${!URLS[@]}"; do
  wrk -t1 -c"$PER" -d"${DURATION}s" --timeout 10s -s perf/dashboard.lua "${URLS[$i]}" -- "$DIR/codes.txt" "${COOKIES[$i]}" \
    >"$WORK/wrk$i.txt" 2>&1 &
  READERS+=("$!")
done
python3 perf/live_submit.py "$WORK/tokens.txt" "$WORK/tokens.json" "$RATE" "$DURATION" "$WAVE" \
  "$(IFS=,; echo "${URLS[*]}")" "$(IFS='|'; echo "${COOKIES[*]}")" | tee "$WORK/submit.txt"
for pid in "${READERS[@]}"; do wait "$pid" || true; done
for i in "${!URLS[@]}"; do
  echo "dashboards, instance $((i + 1)): $(grep '^requests' "$WORK/wrk$i.txt" || tail -3 "$WORK/wrk$i.txt")"
done
for i in "${!SERVERS[@]}"; do
  echo "server $((i + 1)) computations: $(python3 -c "
import re, statistics, sys
s = [float(m) for line in open(sys.argv[1]) if '\"published\"' in line
     for m in re.findall(r'\"seconds\":([0-9.]+)', line)]
print(f'{len(s)}, median {statistics.median(s):.2f} s, max {max(s):.2f} s' if s else 'none')
" "$WORK/server$i.log")"
  echo "server $((i + 1)) peak RSS: $(awk '/VmHWM/ {printf "%.0f MiB", $2 / 1024}' "/proc/${SERVERS[$i]}/status")"
done
