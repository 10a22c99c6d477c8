# Sourced by perf/analytics.sh and perf/export.sh: the large wave a benchmark reads,
# RESPONSES simulated complete responses over SERVICES services, stored once through
# `samskap bench large-wave` and kept for later runs (of either script) in
# target/perf/analytics-BACKEND-RESPONSES-SERVICES/ (on PostgreSQL, the database
# samskap_perf_RESPONSES_SERVICES on $PG_ADMIN_URL); delete the directory to start over.
# Needs BACKEND, RESPONSES, SERVICES, BIN and PG_ADMIN_URL; sets DIR, DATABASE_URL, WAVE,
# and STORED_NOW (yes when the wave was stored by this run).
DIR=$PWD/target/perf/analytics-$BACKEND-$RESPONSES-$SERVICES
mkdir -p "$DIR"
if [ "$BACKEND" = postgres ]; then
  DB=samskap_perf_${RESPONSES}_$SERVICES
  if [ ! -s "$DIR/wave" ]; then
    psql "$PG_ADMIN_URL" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)"
    psql "$PG_ADMIN_URL" -qc "CREATE DATABASE $DB"
  fi
  export DATABASE_URL=${PG_ADMIN_URL%/*}/$DB
else
  [ -s "$DIR/wave" ] || rm -f "$DIR"/samskap.db*
  export DATABASE_URL=sqlite://$DIR/samskap.db
fi
STORED_NOW=no
if [ ! -s "$DIR/wave" ]; then
  echo "== $BACKEND: storing $RESPONSES responses over $SERVICES services (once)"
  "$BIN" migrate >/dev/null
  /usr/bin/time -f "generated in %e s, peak %M KiB" \
    "$BIN" bench large-wave --responses "$RESPONSES" --services "$SERVICES" >"$DIR/wave.tmp"
  # A freshly loaded PostgreSQL database has no planner statistics until autovacuum
  # gets round to it: the measurements would depend on when that happens.
  if [ "$BACKEND" = postgres ]; then psql "$DATABASE_URL" -qc "VACUUM ANALYZE"; fi
  mv "$DIR/wave.tmp" "$DIR/wave"
  STORED_NOW=yes
fi
WAVE=$(cat "$DIR/wave")
