# Sourced by perf/dashboard.sh and perf/live.sh: the one-million-response wave that
# perf/analytics.sh generates and keeps in target/perf/ (generated first when missing),
# a release build (or BIN_UNDER_TEST), and DATABASE_URL, WAVE, BIN and $DIR/codes.txt (the wave's service
# codes) set for BACKEND, RESPONSES and SERVICES.
DIR=$PWD/target/perf/analytics-$BACKEND-$RESPONSES-$SERVICES
if [ ! -s "$DIR/wave" ]; then
  REPEATS=1 perf/analytics.sh "$BACKEND" "$RESPONSES"
fi
# BIN_UNDER_TEST runs another build on the same data (an A/B comparison of two commits:
# build the other commit with `cargo build --release --features bench`, copy its binary
# out of target/, and pass it here).
if [ -n "${BIN_UNDER_TEST:-}" ]; then
  BIN=$BIN_UNDER_TEST
else
  cargo build --release --locked --quiet --features bench
  BIN=$PWD/target/release/samskap
fi
WAVE=$(cat "$DIR/wave")
if [ "$BACKEND" = postgres ]; then
  export DATABASE_URL=${PG_ADMIN_URL%/*}/samskap_perf_${RESPONSES}_$SERVICES
  psql "$DATABASE_URL" -tAc "SELECT service_code FROM wave_services WHERE wave_id = '$WAVE'" >"$DIR/codes.txt"
else
  export DATABASE_URL=sqlite://$DIR/samskap.db
  python3 -c "
import sqlite3
c = sqlite3.connect('$DIR/samskap.db')
for (code,) in c.execute('SELECT service_code FROM wave_services WHERE wave_id = ?', ('$WAVE',)):
    print(code)
" >"$DIR/codes.txt"
fi
