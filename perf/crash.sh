#!/usr/bin/env bash
# The long versions of the reliability harness (tests/reliability): load + SIGKILL for
# 60 s with 64 connections and three kills, PostgreSQL stopped for 10.5 s under load, and
# the SMTP server gone during a reminder run; on SQLite and PostgreSQL, release builds.
#
#   perf/crash.sh [sqlite|postgres|both] [SECONDS]
#
# The test suite runs the same tests for a few seconds. Each run prints its seed; set
# SAMSKAP_CRASH_SEED to repeat one. PostgreSQL for the crash run comes from
# $PG_ADMIN_URL (default postgres://postgres@127.0.0.1:5432/postgres); the outage test
# starts a PostgreSQL server of its own.
set -euo pipefail
cd "$(dirname "$0")/.."
BACKENDS=${1:-both}
SECONDS_RUN=${2:-60}
PG_ADMIN_URL=${PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}
[ "$BACKENDS" = both ] && BACKENDS="sqlite postgres"

export SAMSKAP_CRASH_SECONDS=$SECONDS_RUN
export SAMSKAP_CRASH_CONNECTIONS=${SAMSKAP_CRASH_CONNECTIONS:-64}
export SAMSKAP_CRASH_KILLS=${SAMSKAP_CRASH_KILLS:-3}
export SAMSKAP_OUTAGE_DOWN_SECONDS=${SAMSKAP_OUTAGE_DOWN_SECONDS:-10}

for backend in $BACKENDS; do
  echo "== $backend: ${SECONDS_RUN} s of load, $SAMSKAP_CRASH_KILLS SIGKILLs, $SAMSKAP_CRASH_CONNECTIONS connections"
  if [ "$backend" = postgres ]; then
    export TEST_DATABASE_URL=$PG_ADMIN_URL
  else
    unset TEST_DATABASE_URL
  fi
  log=$(mktemp)
  status=0
  cargo test --release --locked --test reliability -- --nocapture --test-threads=1 >"$log" 2>&1 || status=$?
  grep -E '^(crash run|PostgreSQL |test .* \.\.\. |test result)|panicked' "$log" || true
  if [ "$status" -ne 0 ]; then
    echo "FAILED on $backend; the whole output is in $log" >&2
    exit "$status"
  fi
  rm -f "$log"
done
