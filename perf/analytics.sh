#!/usr/bin/env bash
# The full analysis of one large wave (load + score + every aggregate, benchmark, region
# table and the suppression gate), timed in samskap, against DuckDB computing the core
# aggregates (phase means per service x role, percentile ranks in the four peer groups)
# from a Parquet export of the same answers, and from the same per-respondent scores
# samskap reads (equal footing), in the same run. Checks that DuckDB's phase
# means equal samskap's (to 1e-9) for every cell samskap shows.
#
#   perf/analytics.sh [sqlite|postgres] [RESPONSES]      (defaults: sqlite 1000000)
#
# The generated wave (SERVICES services, default 20000) and its Parquet export are kept
# in target/perf/ and reused by later runs (a million responses take minutes to store);
# delete the directory to start over. Each side runs REPEATS times (default 3); the
# median counts. docs/performance.md records the results.
set -euo pipefail
cd "$(dirname "$0")/.."
BACKEND=${1:-sqlite}
RESPONSES=${2:-1000000}
SERVICES=${SERVICES:-20000}
REPEATS=${REPEATS:-3}
PG_ADMIN_URL=${PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}
export SAMSKAP_MIN_CELL=${SAMSKAP_MIN_CELL:-5}
export SAMSKAP_SECRET_KEY=benchmark-secret-key-0123456789abcdef
export SAMSKAP_SURVEYS_DIR=$PWD/surveys
export RUST_LOG=warn

python3 -c 'import duckdb' 2>/dev/null || pip install --quiet duckdb
cargo build --release --locked --quiet --features bench
BIN=$PWD/target/release/samskap
# shellcheck source=perf/stored_wave.sh
source perf/stored_wave.sh
# A newly stored wave needs its Parquet export again.
if [ "$STORED_NOW" = yes ]; then rm -rf "$DIR/parquet"; fi
if [ ! -s "$DIR/parquet/answers.parquet" ] || [ ! -s "$DIR/parquet/scores.parquet" ]; then
  echo "== $BACKEND: Parquet export (once)"
  "$BIN" bench export-parquet --wave "$WAVE" --out "$DIR/parquet"
fi

echo "== samskap: full analysis, $REPEATS runs (each a fresh process)"
: >"$DIR/samskap.jsonl"
for _ in $(seq 1 "$REPEATS"); do
  "$BIN" bench analyse --wave "$WAVE" --means "$DIR/means.csv" | tee -a "$DIR/samskap.jsonl"
done

echo "== DuckDB $(python3 -c 'import duckdb; print(duckdb.__version__)'): core aggregates from Parquet, $REPEATS runs"
python3 perf/analytics_duckdb.py "$DIR/parquet" "$DIR/means.csv" "$SAMSKAP_MIN_CELL" "$REPEATS" | tee "$DIR/duckdb.json"

python3 - "$DIR/samskap.jsonl" "$DIR/duckdb.json" "$BACKEND" <<'EOF'
import json, statistics, sys
runs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
duck = json.load(open(sys.argv[2]))
total = statistics.median(r["total_seconds"] for r in runs)
load = statistics.median(r["load_seconds"] for r in runs)
agg = statistics.median(r["aggregate_seconds"] for r in runs)
peak = max(r["peak_rss_mib"] for r in runs)
ratio = total / duck["median_seconds"]
print(f"== {sys.argv[3]}: {runs[0]['respondents']} respondents, {runs[0]['services']} services")
print(f"samskap full analysis: {total:.3f} s median (load {load:.3f} s, aggregates {agg:.3f} s), peak RSS {peak:.0f} MiB")
print(f"DuckDB core aggregates from the raw answers: {duck['median_seconds']:.3f} s median, peak RSS {duck['peak_rss_mib']:.0f} MiB")
scores = duck["scores"]
print(f"DuckDB core aggregates from the per-respondent scores (equal footing): {scores['median_seconds']:.3f} s median; "
      f"samskap / DuckDB = {total / scores['median_seconds']:.2f}")
print(f"samskap / DuckDB = {ratio:.2f} (goal <= 1.0): {'met' if ratio <= 1.0 else 'NOT met'}; "
      f"peak memory goal < 2048 MiB: {'met' if peak < 2048 else 'NOT met'}")
for table, c in runs[0]["privacy"].items():
    print(f"gate, {table} cells (all roles): {c['cells']} cells, {c['empty']} empty, "
          f"{c['too_few']} hidden as too few, {c['complementary']} more hidden as complementary")
print(f"cross-check: {duck['checked_means']} shown phase means equal DuckDB's, largest difference {duck['largest_difference']:.1e} "
      f"(from scores: {scores['checked_means']}, {scores['largest_difference']:.1e})")
EOF
